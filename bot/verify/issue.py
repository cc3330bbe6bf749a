"""The `release-bot:verify` issue: its text, and the pure planner of what to do about it.

`report_of` (a verification) and `report_of_error` (no verification: the index could not be
read) turn a verify run into a `Report`: passed or not, and for a failure the issue's title
and Markdown body. `plan_issue` looks only at that report and the open issues carrying the
label and returns a frozen `IssueAction`:

* `create`: verification fails and no issue is open;
* `update`: it fails and the oldest open issue says something else (title or body);
* `close`: it passes and issues are open: each gets a comment and is closed;
* `noop`: it passes with none open, or fails with the oldest open issue already saying this.

Never two open issues: any further open issue is closed as a duplicate of the oldest.

Everything from the index (component, version, stack, key, url, sha256) goes into the body
only through the release notes' Markdown escaping (`bot.notes.render.md_escape`), clipped, so
a hostile index.json cannot add markup, links, mentions or issue references, and the body is
kept under GitHub's size limit. The body has no timestamp: the same failure twice renders the
same text, which is what makes a rerun write nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bot.forge.port import Issue
from bot.notes.render import md_code, md_escape, md_link
from bot.verify.runner import Verification, Verified
from bot.verify.table import COLUMNS, verify_table

LABEL = "release-bot:verify"
BODY_LIMIT = 60_000  # characters; GitHub refuses an issue body over 65 536
CELL_CHARS = 120  # of one table cell from the index, before escaping
LINE_CHARS = 1000  # of one problem line, before escaping
MARKER = "<!-- release-bot:verify -->"
FIX = ("re-publish them from their build output (`release-bot publish DIR --force`) or fix "
       "index.json")
FOOTER = ("This issue is kept up to date by `release-bot verify --report-issue` (one issue, "
          f"label `{LABEL}`) and closed when every artifact passes again.")

IssueKind = Literal["noop", "create", "update", "close"]


@dataclass(frozen=True, slots=True)
class Report:
    """What a verify run found, as the issue tells it."""

    passed: bool
    summary: str  # one line, plain text: the log and the closing comment
    title: str = ""  # of the issue, when it failed
    body: str = ""


@dataclass(frozen=True, slots=True)
class IssueAction:
    kind: IssueKind
    reason: str
    number: int | None = None  # the issue updated, kept, or (first) closed
    title: str = ""
    body: str = ""
    comment: str = ""  # for `close`: said on every issue closed
    duplicates: tuple[int, ...] = ()  # further open issues, closed as well

    @property
    def writes(self) -> bool:
        return self.kind != "noop" or bool(self.duplicates)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _cell(text: str) -> str:
    return md_escape(_clip(text, CELL_CHARS))


def _fit(lines: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The leading lines that fit in `budget` characters, and how many were left out."""
    kept: list[str] = []
    used = 0
    for line in lines:
        used += len(line) + 1
        if used > budget:
            break
        kept.append(line)
    return kept, len(lines) - len(kept)


def _table_lines(results: Sequence[Verified], verification: Verification) -> list[str]:
    rows = verify_table(replace(verification, results=tuple(results))).rows
    return ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in rows]


def _render(intro: str, table: list[str], table_note: str, problems: list[str]) -> str:
    parts = [MARKER, intro, ""]
    if table:
        parts += ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|",
                  *table, ""]
    if table_note:
        parts += [table_note, ""]
    if problems:
        parts += ["**What is wrong**", "", *problems, ""]
    parts += [f"**Fix**: {FIX}.", "", FOOTER]
    return "\n".join(parts) + "\n"


def report_of(verification: Verification) -> Report:
    """The issue's report of a finished verification."""
    bad = verification.bad
    total = len(verification.results)
    if not bad:
        return Report(True, verification.summary())
    intro = (f"`release-bot verify` found that **{len(bad)} of {total}** published artifacts "
             f"in {md_code(verification.store)} do not match "
             f"{md_link(verification.index_url, 'index.json')}: buildpacks downloading them "
             "get other bytes or none.")
    problems = [f"- {md_escape(_clip(r.line(), LINE_CHARS))}" for r in bad]
    table = _table_lines(verification.results, verification)
    body = _render(intro, table, "", problems)
    if len(body) > BODY_LIMIT:  # a long index: the bad rows only, then as many as fit
        table, left = _fit(_table_lines(bad, verification), BODY_LIMIT // 2)
        problems, left_problems = _fit(problems, BODY_LIMIT // 3)
        note = f"Only the {len(bad)} failing rows of {total} are shown"
        if left:
            note += f"; {left} more left out"
        if left_problems:
            problems.append(f"- … {left_problems} more left out")
        body = _render(intro, table, note + " (the workflow log has them all).", problems)
    plural = "artifact fails" if len(bad) == 1 else "artifacts fail"
    return Report(False, verification.summary(),
                  f"release-bot verify: {len(bad)} of {total} published {plural}", body)


def report_of_error(store: str, message: str) -> Report:
    """The issue's report of a verification that could not start: no readable index.json."""
    intro = (f"`release-bot verify` could not read the index of {md_code(store)}, so "
             "buildpacks cannot either:\n\n"
             f"> {md_escape(_clip(message, LINE_CHARS))}")
    return Report(False, _clip(" ".join(message.split()), LINE_CHARS),
                  "release-bot verify: index.json cannot be read",
                  _render(intro, [], "", []))


def passes_comment(report: Report) -> str:
    return (f"release-bot: verification passes again ({md_escape(report.summary)}); closing "
            "this issue. A new failure opens a new one.")


def duplicate_comment(number: int) -> str:
    return (f"release-bot: closing this duplicate: #{number} carries the verify report "
            "(one issue at a time).")


def _same(a: str, b: str) -> bool:
    return a.replace("\r\n", "\n").strip() == b.replace("\r\n", "\n").strip()


def plan_issue(report: Report, open_issues: Sequence[Issue], *, label: str = LABEL
               ) -> IssueAction:
    wanted = label.lower()
    ours = sorted((i for i in open_issues
                   if i.state == "open" and wanted in (n.lower() for n in i.labels)),
                  key=lambda i: i.number)
    if report.passed:
        if not ours:
            return IssueAction("noop", "verification passes and no issue is open")
        numbers = ", ".join(f"#{i.number}" for i in ours)
        return IssueAction("close", f"verification passes again: closing {numbers}",
                           number=ours[0].number, comment=passes_comment(report),
                           duplicates=tuple(i.number for i in ours[1:]))
    if not ours:
        return IssueAction("create", "verification fails and no issue is open",
                           title=report.title, body=report.body)
    keep, duplicates = ours[0], tuple(i.number for i in ours[1:])
    extra = (f"; closing {', '.join(f'#{n}' for n in duplicates)} as duplicates"
             if duplicates else "")
    if _same(keep.title, report.title) and _same(keep.body, report.body):
        return IssueAction("noop", f"#{keep.number} already reports this{extra}",
                           number=keep.number, duplicates=duplicates)
    return IssueAction("update", f"#{keep.number} is updated to the new report{extra}",
                       number=keep.number, title=report.title, body=report.body,
                       duplicates=duplicates)
