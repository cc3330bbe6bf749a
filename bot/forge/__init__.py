"""The forge port (pull requests through a hosting API) and its adapters.

`port.Forge` is the contract; `github.GitHubForge` talks to GitHub through PyGithub;
`dryrun.DryRunForge` reads through a real forge and only prints what it would write.
"""

from bot.forge.port import (
    Branch,
    FileAtRef,
    Forge,
    PullExists,
    PullRequest,
    RefExists,
    StaleBase,
)

__all__ = ["Branch", "FileAtRef", "Forge", "PullExists", "PullRequest", "RefExists", "StaleBase"]
