"""`release-bot pin`: download a component's source once and record its sha256."""

from __future__ import annotations

import click

from bot.app import App
from bot.cache import CachedFile
from bot.commands.options import parse_version, version_option
from bot.config.edit import update_file


@click.command(name="pin")
@click.argument("component")
@version_option("Pin this version instead of the current one (sets version and sha256).")
@click.option("--force", is_flag=True,
              help="Download again even when the pinned file is in the source cache.")
@click.pass_obj
def command(app: App, component: str, version_text: str | None, force: bool) -> None:
    """Download COMPONENT's source tarball into the source cache and record its sha256."""
    config = app.config
    comp = config.component(component)  # unknown name: exit 2 with a did-you-mean
    version = parse_version(version_text) or comp.version
    url = comp.source_url(version)
    cache = app.source_cache
    cached: CachedFile | None = None
    if not force and version == comp.version and comp.sha256 is not None \
            and cache.path_for(comp.sha256).is_file():
        cached = cache.fetch(url, comp.sha256)  # verified copy already here: no download
    with app.reporter.phase(f"pin {comp.name} {version}"):
        if cached is None:
            cached = cache.fetch(url, None)
        if comp.sha256 is not None and version == comp.version and cached.sha256 != comp.sha256:
            app.reporter.warning(
                f"{comp.name} {version}: {url} now hashes to {cached.sha256}, but "
                f"{config.path} pinned {comp.sha256}; the upstream file changed, recording the "
                "new value (review it before merging)", file=config.path)
        changed = update_file(config.path, comp.name,
                              version=None if version == comp.version else version,
                              sha256=cached.sha256)
    state = "recorded" if changed else "already recorded"
    app.reporter.info(f"{comp.name} {version}: sha256 {cached.sha256} {state} in {config.path} "
                      f"({cached.size} bytes, {cached.downloaded} downloaded)")
    app.reporter.output("sha256", cached.sha256)
