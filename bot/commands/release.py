"""`release-bot release`: create or update the GitHub Release of the current versions."""

from __future__ import annotations

from pathlib import Path

import click

from bot.app import App
from bot.commands.notes import gather, source_options
from bot.notes.publisher import announce_with_assets, github_announcer


@click.command(name="release")
@source_options
@click.pass_obj
def command(app: App, artifacts: Path | None, store_url: str | None,
            smoke_files: tuple[Path, ...], attestation_url: str | None) -> None:
    """Create the GitHub Release for the versions (tag like mono-6.14.1+xsp-4.7.1), or update
    it when it exists: same release, new body, the build manifests attached once.

    Needs GITHUB_TOKEN (contents: write) and GITHUB_REPOSITORY (owner/name). Prints the
    release URL (also the step output `release-url`). Exit 7 when GitHub refuses.
    """
    with app.reporter.phase("release notes"):
        gathered = gather(app, artifacts, store_url, smoke_files, attestation_url)
    notes = gathered.notes
    with app.reporter.phase(f"GitHub Release {notes.tag}"):
        announcer = github_announcer(app.github, app.settings.github_repository)
        announced = announce_with_assets(announcer, notes.tag, notes.title, gathered.body,
                                         {m.name: m.data for m in gathered.manifests})
    verb = "created" if announced.created else "updated"
    app.reporter.info(f"{verb} the release {notes.tag}: {announced.where}")
    app.reporter.output("release-url", announced.where)
    app.reporter.output("release-tag", notes.tag)
    app.reporter.summary(f"**GitHub Release** [{notes.tag}]({announced.where}) {verb}, "
                         f"{len(gathered.manifests)} manifest(s) attached.")
    click.echo(announced.where)
