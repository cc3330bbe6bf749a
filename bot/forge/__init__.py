"""The forge ports (pull requests and issues through a hosting API) and their adapters.

`port.Forge` (pull requests), `port.IssueTracker` (issues) and `port.Announcer` (releases)
are the contracts; `github.GitHubForge` implements all three through PyGithub, the one GitHub
adapter; `dryrun.DryRunForge` reads through a real forge and only prints what it would write.
"""
