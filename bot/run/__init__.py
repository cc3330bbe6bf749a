"""The main job, `release-bot run`: `plan` (pure: what to build, take, check, per stack) and
`runner` (thin: build, smoke, publish, notes and the release through their public functions).
"""
