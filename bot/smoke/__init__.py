"""Smoke tests on the built runtime: sample apps run from app images on a runtime image.

* ``plan``     -- pure: which artifacts make the runtime, which checks run (`plan_smoke`)
* ``runtime``  -- the runtime image (stack run image + artifacts at /app), cached by inputs
* ``samples``  -- compile a sample with the runtime's own compiler, build its app image
* ``checks``   -- run one check in a fresh, always-removed container
* ``runner``   -- the thin loop: runtime image, app images, checks, results
* ``results``  -- `SmokeResult`, what every check returns (and --json prints)
"""
