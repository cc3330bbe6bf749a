"""The wheel carries images/ where bot.resources looks for it outside a checkout.

(Checked by hand: `pip wheel --no-deps .` into a fresh venv, `images_dir()` is
site-packages/bot/_images and build and smoke reuse the images built from the checkout.)
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from bot import resources

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_maps_images_to_the_packaged_folder() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert set(wheel["only-include"]) == {"bot", "images"}
    assert wheel["sources"] == {"images": f"bot/{resources.PACKAGED}"}


def test_a_checkout_uses_its_own_images() -> None:
    found = resources.images_dir()
    assert found == ROOT / "images"
    for needed in ("builder/Dockerfile", "runtime/Dockerfile", "samples/console/Dockerfile"):
        assert (found / needed).is_file(), needed
