"""The pull request's build report (pure): one row per planned (component, version, stack,
arch; the stack column shows the lane, `heroku-24-arm64` for arm64) with the build's result
and time, the tarball's size and its change against the version the store publishes, the
sha256 and the lane's smoke checks; a link to the logs of a failure.

The comment starts with a hidden marker so `release-bot pr-report` finds and edits its own
comment instead of adding one per push. Everything shown comes from the manifests the
build job kept and versions.toml; text is escaped as in the release notes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.arch import lane
from bot.build.manifest import Manifest
from bot.notes.model import NoteSmoke
from bot.notes.render import human_size, md_code, md_escape, md_link
from bot.store.layout import Index, IndexEntry
from bot.store.unpublished import PlanEntry
from bot.versions import Version

MARKER = "<!-- release-bot:pr-report -->"
MAX_CHARS = 60_000  # under GitHub's 65 536 per comment


@dataclass(frozen=True, slots=True)
class ReportRow:
    entry: PlanEntry
    manifest: Manifest | None  # None: not kept (its build or the stack's smoke tests failed)
    previous: IndexEntry | None  # the newest other version the store publishes


@dataclass(frozen=True, slots=True)
class PrReport:
    rows: tuple[ReportRow, ...]
    smoke: tuple[NoteSmoke, ...]
    run_url: str
    head_sha: str

    @property
    def failed_stacks(self) -> list[str]:
        """The lanes (bot.arch.lane) that failed."""
        stacks = dict.fromkeys(_lane(r.entry) for r in self.rows if r.manifest is None)
        stacks.update(dict.fromkeys(lane(s.stack, s.arch) for s in self.smoke if not s.passed))
        return list(stacks)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and not self.failed_stacks


def _lane(entry: PlanEntry) -> str:
    return lane(entry.stack, entry.arch)


def previous_published(index: Index, entry: PlanEntry) -> IndexEntry | None:
    """The newest version of the same component, stack and architecture the store publishes,
    other than the one planned (what a buildpack gets today)."""
    others = [e for e in index.entries if (e.component, e.stack, e.arch) ==
              (entry.component, entry.stack, entry.arch) and e.version != entry.version]
    return max(others, key=lambda e: Version.parse(e.version), default=None)


def build_report(entries: Sequence[PlanEntry], manifests: Sequence[Manifest], index: Index,
                 smoke: Sequence[NoteSmoke], run_url: str, head_sha: str) -> PrReport:
    kept = {(m.component, m.version, m.stack, m.arch): m for m in manifests}
    rows = tuple(ReportRow(e, kept.get((e.component, e.version, e.stack, e.arch)),
                           previous_published(index, e)) for e in entries)
    return PrReport(rows, tuple(smoke), run_url, head_sha)


def _change(size: int, previous: IndexEntry | None) -> str:
    if previous is None:
        return "new"
    delta = size - previous.size
    sign = "+" if delta >= 0 else "-"
    percent = f" ({sign}{abs(delta) / previous.size:.1%})" if previous.size else ""
    return (f"{sign}{human_size(abs(delta))}{percent} against {md_escape(previous.version)}")


def _row(row: ReportRow) -> str:
    e, m = row.entry, row.manifest
    head = f"| {md_escape(e.component)} | {md_escape(e.version)} | {md_escape(_lane(e))} |"
    if m is None:
        return head + " ❌ failed | - | - | - | - |"
    return (f"{head} ✅ built | {m.duration:.0f}s | {human_size(m.size)} | "
            f"{_change(m.size, row.previous)} | {md_code(m.sha256)} |")


def _smoke_lines(report: PrReport) -> list[str]:
    lines = []
    for stack in dict.fromkeys(_lane(r.entry) for r in report.rows):
        mine = [s for s in report.smoke if lane(s.stack, s.arch) == stack]
        if not mine:
            if stack in report.failed_stacks:
                lines.append(f"- {md_escape(stack)}: no results kept (the build or the smoke "
                             "tests failed: see the logs)")
            continue
        checks = ", ".join(f"{'✅' if s.passed else '❌'} {md_escape(s.name)} "
                           f"({s.seconds:.1f}s)" for s in mine)
        lines.append(f"- {md_escape(stack)}: {checks}")
    return lines


def render_report(report: PrReport) -> str:
    """The comment's Markdown, marker first; the same report gives the same text."""
    verdict = ("✅ **Every planned build passed its build and smoke tests**; merging "
               "publishes these very tarballs (same sha256)." if report.passed else
               "❌ **Failed** on " + ", ".join(md_escape(s) for s in report.failed_stacks)
               + f": {md_link(report.run_url, 'the logs of this run')}. What failed is "
               "built again after the merge, not promoted.")
    lines = [MARKER, f"### release-bot: the build of {md_code(report.head_sha[:12])}", "",
             verdict, "",
             "| component | version | stack | result | build time | size | change | "
             "sha256 |", "|---|---|---|---|---|---|---|---|",
             *(_row(r) for r in report.rows), "", "**Smoke tests**", "",
             *(_smoke_lines(report) or ["- none ran"]), "",
             f"Run: {md_link(report.run_url, report.run_url.rsplit('/', 1)[-1])}"]
    text = "\n".join(lines) + "\n"
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS] + "\n\n(clipped)\n"
