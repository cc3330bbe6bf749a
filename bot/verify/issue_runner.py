"""The thin runner of the `release-bot:verify` issue: list, plan, carry the plan out.

One listing of the open issues with the label, `plan_issue`, then the writes it asks for
(none when the open issue already says this). After creating an issue it lists again and
re-plans: a concurrent run (or a create that GitHub got twice) may have opened another one,
and the plan then keeps the oldest and closes the rest, so runs converge on one open issue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.forge.port import Issue, IssueTracker
from bot.report import Reporter
from bot.verify.issue import LABEL, IssueAction, Report, duplicate_comment, plan_issue


@dataclass(frozen=True, slots=True)
class IssueOutcome:
    action: IssueAction  # the first plan (what this run found to do)
    number: int | None = None  # the issue that carries the report, or the one closed
    url: str | None = None
    writes: bool = False


def _apply(tracker: IssueTracker, action: IssueAction, label: str) -> Issue | None:
    created: Issue | None = None
    if action.kind == "create":
        created = tracker.create_issue(action.title, action.body, label)
    elif action.kind == "update" and action.number is not None:
        tracker.edit_issue(action.number, action.title, action.body)
    if action.kind == "close":
        for number in (action.number, *action.duplicates):
            if number is not None:
                tracker.comment_issue(number, action.comment)
                tracker.close_issue(number, "completed")
    elif action.number is not None:
        for number in action.duplicates:
            tracker.comment_issue(number, duplicate_comment(action.number))
            tracker.close_issue(number, "duplicate")
    return created


def reconcile_issue(tracker: IssueTracker, report: Report, reporter: Reporter, *,
                    label: str = LABEL) -> IssueOutcome:
    issues = tracker.open_issues(label)
    urls = {i.number: i.url for i in issues}
    action = plan_issue(report, issues, label=label)
    created = _apply(tracker, action, label)
    number = action.number
    if created is not None:
        number = created.number
        urls[created.number] = created.url
        fresh = tracker.open_issues(label)
        if created.number not in (i.number for i in fresh):  # not listed yet: open all the same
            fresh.append(replace(created, state="open", labels=(*created.labels, label)))
        again = plan_issue(report, fresh, label=label)
        if again.writes and again.kind != "create":  # never a second create in one run
            reporter.warning(f"another open {label} issue appeared meanwhile: {again.reason}")
            urls.update((i.number, i.url) for i in fresh)
            _apply(tracker, again, label)
            number = again.number
    return IssueOutcome(action, number, urls.get(number) if number is not None else None,
                        action.writes)
