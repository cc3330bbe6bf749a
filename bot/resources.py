"""Where the bot's own files are: `images/` (the builder and runtime Dockerfiles, the sample
apps, the stack scripts).

Running from a checkout (the source tree, or an editable install of it) that is the tree's
`images/`; an installed wheel carries a copy as the package data `bot/_images` (pyproject.toml:
`[tool.hatch.build.targets.wheel.force-include]`). This is the one place that decides which.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from bot.errors import UsageError

PACKAGED = "_images"


@cache
def images_dir() -> Path:
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "images").is_dir():
        return checkout / "images"
    packaged = resources.files("bot").joinpath(PACKAGED)
    if not isinstance(packaged, Path) or not packaged.is_dir():
        raise UsageError(f"release-bot's images/ folder is missing (looked in {checkout} and "
                         f"the package's {PACKAGED}); reinstall release-bot from its wheel "
                         "(`pip install .`) or run it from a checkout")
    return packaged
