"""versions.toml: typed model (`model`), strict loader (`load`, on the field checks of
`fields`), round-trip edits (`edit`)."""

from bot.config.load import load_config, parse_config
from bot.config.model import (
    Component,
    Config,
    ExtraSource,
    Stack,
    StackOverride,
    Upstream,
)

__all__ = [
    "Component",
    "Config",
    "ExtraSource",
    "Stack",
    "StackOverride",
    "Upstream",
    "load_config",
    "parse_config",
]
