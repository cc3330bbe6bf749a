"""`release-bot promote`: publish on merge exactly what the pull request built and tested.

`decide` (pure: which stacks may be promoted, and why not), `evidence` (reading a run's
artifact and what the merged versions.toml expects of it), `runner` (the thin loop over the
planned stacks through the `bot.forge.actions` port), `notes` (the release notes' line).
"""
