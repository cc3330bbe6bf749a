"""The release notes' word on promotion: which artifacts the merge published from which
pull request run (`promoted/<stack>.json`, written by `release-bot promote`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.notes.render import md_code, md_link

_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@&=%-]+")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\.tar\.gz")


def _record(path: Path) -> tuple[int, int, str, list[str]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        number, run_id = int(data["pull"]["number"]), int(data["run"]["id"])
        url = str(data["run"]["url"])
        files = [str(f) for f in data["artifacts"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _URL.fullmatch(url) or not all(_FILE.fullmatch(f) for f in files):
        return None  # not what promote writes: say nothing rather than something forged
    return number, run_id, url, files


def promoted_section(artifacts: Path | None) -> str:
    """A Markdown section naming every promoted artifact and its run; "" when none was."""
    if artifacts is None:
        return ""
    lines = []
    for path in sorted((artifacts / "promoted").glob("*.json")):
        record = _record(path)
        if record is None:
            continue
        number, run_id, url, files = record
        names = ", ".join(md_code(f) for f in files)
        lines.append(f"- {names}: built and smoke-tested by pull request #{number}, "
                     f"{md_link(url, f'run {run_id}')}; published as they are (same sha256)")
    if not lines:
        return ""
    return "\n## Promoted from the pull request\n\n" + "\n".join(lines) + "\n"


