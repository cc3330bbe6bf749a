"""`release-bot notes`: render the release notes (stdout or a file) from manifests and results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from bot.app import App
from bot.commands.options import store_option
from bot.errors import UsageError
from bot.files import atomic_write
from bot.notes.collect import (
    ManifestFile,
    build_notes,
    current_entries,
    local_manifests,
    merge_smoke_results,
    store_manifests,
)
from bot.notes.model import ReleaseNotes
from bot.notes.render import render_notes
from bot.promote.notes import promoted_section
from bot.store.layout import read_index


@dataclass(frozen=True, slots=True)
class Gathered:
    notes: ReleaseNotes
    body: str
    manifests: tuple[ManifestFile, ...]


def gather(app: App, artifacts: Path | None, store_url: str | None,
           smoke_files: tuple[Path, ...], attestation_url: str | None = None) -> Gathered:
    """The notes of the artifacts in `artifacts` (default: what the store publishes for the
    versions in versions.toml), with download URLs from the store's index."""
    config = app.config
    store = app.store(store_url)
    index, _ = read_index(store)
    if artifacts is not None:
        manifests = local_manifests(artifacts)
        if not manifests:
            raise UsageError(f"no build manifests in {artifacts}; run `release-bot build` "
                             "first")
    else:
        manifests = store_manifests(store, current_entries(config, index))
        if not manifests:
            raise UsageError(f"{store.url} publishes nothing for the versions in "
                             f"{config.path}; publish first, or pass --artifacts DIR")
    stacks = {m.manifest.stack for m in manifests}
    smoke = merge_smoke_results(smoke_files, next(iter(stacks)) if len(stacks) == 1 else "")
    notes, warnings = build_notes([m.manifest for m in manifests], index, config, smoke=smoke,
                                  repository=app.settings.github_repository,
                                  attestation_url=attestation_url)
    for warning in warnings:
        app.reporter.warning(warning)
    body = render_notes(notes, app.templates) + promoted_section(artifacts)
    return Gathered(notes, body, tuple(manifests))


def source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--artifacts, --store and --smoke-results, shared with `release-bot release`."""
    for option in reversed((
        click.option("--artifacts", type=click.Path(path_type=Path, file_okay=False),
                     default=None, help="Build output directory whose manifests to list "
                     "[default: what the store publishes for versions.toml]."),
        store_option(" whose index.json gives the download URLs"),
        click.option("--smoke-results", "smoke_files", multiple=True,
                     type=click.Path(path_type=Path, dir_okay=False),
                     help="Smoke results JSON (`release-bot smoke --json`, or "
                     "dist/smoke-results.json from `release-bot run`); repeatable: one file "
                     "per stack, merged."),
        click.option("--attestation-url", default=None, metavar="URL",
                     help="The artifact attestation of these tarballs, linked in the notes "
                     "(beside a `gh attestation verify` command per artifact)."),
    )):
        func = option(func)
    return func


@click.command(name="notes")
@source_options
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the notes to this file instead of stdout.")
@click.pass_obj
def command(app: App, artifacts: Path | None, store_url: str | None,
            smoke_files: tuple[Path, ...], attestation_url: str | None,
            output: Path | None) -> None:
    """Render the release notes: versions, per-stack artifacts with download URL, sha256 and
    size, smoke results, upstream links and builder images.

    Strings from upstreams are escaped: they cannot add links, HTML, mentions or issue
    references to the notes.
    """
    with app.reporter.phase("release notes"):
        gathered = gather(app, artifacts, store_url, smoke_files, attestation_url)
    notes = gathered.notes
    app.reporter.output("release-tag", notes.tag)
    app.reporter.summary(f"**Release notes** for `{notes.tag}`: {len(notes.artifacts)} "
                         f"artifact(s), {len(notes.smoke)} smoke result(s).")
    if output is None:
        click.echo(gathered.body, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(output, gathered.body)
    app.reporter.info(f"wrote the notes for {notes.tag} to {output}")
