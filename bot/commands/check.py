"""`release-bot check`: validate versions.toml and show what it describes, and find the bot's
own images/ (a checkout's, or the copy inside the installed wheel)."""

from __future__ import annotations

import json
from typing import Any

import click

from bot.app import App
from bot.errors import UsageError
from bot.report import Table
from bot.resources import images_dir

# what build and smoke read from images/
IMAGE_FILES = ("builder/Dockerfile", "runtime/Dockerfile", "samples")


def _images() -> str:
    images = images_dir()
    missing = [name for name in IMAGE_FILES if not (images / name).exists()]
    if missing:
        raise UsageError(f"release-bot's images folder {images} lacks {', '.join(missing)}; "
                         "reinstall release-bot from its wheel (`pip install .`)")
    return str(images)


@click.command(name="check")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def command(app: App, as_json: bool) -> None:
    """Validate versions.toml (exit 2 with the line and the fix when it is wrong) and find
    the bot's images/ folder (the Dockerfiles and sample apps build and smoke use)."""
    config = app.config
    images = _images()
    rows: list[dict[str, Any]] = [
        {
            "component": c.name,
            "version": c.version.text,
            "pinned": c.pinned,
            "sha256": c.sha256,
            "source": c.source_url(),
            "requires": list(c.requires),
            "stacks": list(c.stacks),
            "upstreams": [u.type for u in c.upstream],
        }
        for c in config.components.values()
    ]
    if as_json:
        click.echo(json.dumps({
            "config": config.path,
            "images": images,
            "stacks": {s.name: {"build-image": s.build_image, "run-image": s.run_image}
                       for s in config.stacks.values()},
            "components": rows,
        }, indent=2))
        return
    app.reporter.info(f"release-bot's images: {images}")
    app.reporter.table(Table(
        f"{config.path}: {len(rows)} components, {len(config.stacks)} stacks",
        ["component", "version", "sha256", "requires", "stacks", "upstreams"],
        [[r["component"], r["version"],
          (str(r["sha256"])[:12] + "…") if r["pinned"] else "UNPINNED (release-bot pin)",
          ", ".join(r["requires"]) or "-", ", ".join(r["stacks"]),
          ", ".join(r["upstreams"]) or "-"] for r in rows],
    ))
    for r in rows:
        if not r["pinned"]:
            app.reporter.warning(
                f"{r['component']} {r['version']} is unpinned: it cannot be built or published "
                f"until `release-bot pin {r['component']}` records its sha256",
                file=config.path)
