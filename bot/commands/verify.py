"""`release-bot verify`: download what index.json lists, as a buildpack would, and check it."""

from __future__ import annotations

import json

import click

from bot.app import App
from bot.commands.options import store_option
from bot.errors import PublishError
from bot.report import Table
from bot.verify.reader import PublicReader
from bot.verify.runner import WORKERS, Verification, verify_store


def _short_digest(digest: str | None) -> str:
    """`sha256:0123456789ab…` (the JSON has it whole); "-" when the manifest records none."""
    if not digest:
        return "-"
    algorithm, _, hexdigest = digest.rpartition(":")
    return f"{algorithm}:{hexdigest[:12]}…" if algorithm else digest[:20]


def _table(verification: Verification) -> Table:
    return Table(verification.summary(),
                 ["component", "version", "stack", "size", "sha256", "base image", "result"],
                 [[r.entry.component, r.entry.version, r.entry.stack, str(r.entry.size),
                   r.entry.sha256[:12] + "…", _short_digest(r.base_image), r.result]
                  for r in verification.results])


@click.command(name="verify")
@store_option(" to verify")
@click.option("--json", "as_json", is_flag=True,
              help="Print the results as a JSON list on stdout (one object per artifact).")
@click.pass_obj
def command(app: App, store_url: str | None, as_json: bool) -> None:
    """Prove that what the store publishes is what its index.json says (read-only).

    Reads index.json from the store's public URL and, for every entry, downloads its url
    anonymously (streamed, several at a time): the HTTP status, size and sha256 must match
    the entry, the .sha256 sidecar must name the same sha256 and file, the .json manifest
    the same component, version, stack, sha256 and size, and key and url must lie under the
    store's prefix. Exit 6 naming each bad entry, one line each.
    """
    store = app.store(store_url)
    reader = PublicReader.from_settings(app.settings, pool_size=WORKERS)
    try:
        with app.reporter.phase(f"verify {store.url}"):
            verification = verify_store(store, reader, workers=WORKERS)
    finally:
        reader.close()
    table = _table(verification)
    if as_json:  # stdout is the JSON alone; the table still reaches the step summary
        click.echo(json.dumps([r.to_json() for r in verification.results], indent=2))
        app.reporter.summary(table.markdown())
    else:
        app.reporter.table(table)
    bad = verification.bad
    app.reporter.info(verification.summary())
    if not bad:
        return
    for result in bad:
        app.reporter.error(result.line())
    raise PublishError(f"{len(bad)} of {len(verification.results)} published artifact(s) in "
                       f"{verification.store} do not match {verification.index_url}: "
                       f"{', '.join(r.entry.key[:120] for r in bad[:10])}"
                       f"{' …' if len(bad) > 10 else ''}; buildpacks would get other bytes "
                       "or none: re-publish them from their build output (`release-bot "
                       "publish DIR --force`) or fix index.json")
