"""The forge ports (pull requests and issues through a hosting API) and their adapters.

`port.Forge` (pull requests) and `port.IssueTracker` (issues) are the contracts;
`github.GitHubForge` implements both through PyGithub; `dryrun.DryRunForge` reads through a
real forge and only prints what it would write.
"""

from bot.forge.port import (
    Branch,
    FileAtRef,
    Forge,
    Issue,
    IssueTracker,
    PullExists,
    PullRequest,
    RefExists,
    StaleBase,
)

__all__ = ["Branch", "FileAtRef", "Forge", "Issue", "IssueTracker", "PullExists", "PullRequest",
           "RefExists", "StaleBase"]
