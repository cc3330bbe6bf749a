"""The verify table (reporting only): one row per checked artifact, for the terminal, the step
summary and the `release-bot:verify` issue."""

from __future__ import annotations

from bot.report import Table
from bot.verify.runner import Verification

COLUMNS = ("component", "version", "stack", "arch", "size", "sha256", "base image", "result")


def short_digest(digest: str | None) -> str:
    """`sha256:0123456789ab…` (the JSON has it whole); "-" when the manifest records none."""
    if not digest:
        return "-"
    algorithm, _, hexdigest = digest.rpartition(":")
    return f"{algorithm}:{hexdigest[:12]}…" if algorithm else digest[:20]


def verify_table(verification: Verification) -> Table:
    return Table(verification.summary(), list(COLUMNS),
                 [[r.entry.component, r.entry.version, r.entry.stack, r.entry.arch,
                   str(r.entry.size), r.entry.sha256[:12] + "…", short_digest(r.base_image),
                   r.result]
                  for r in verification.results])
