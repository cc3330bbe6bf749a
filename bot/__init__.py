"""release-bot: keeps a buildpack's Mono and XSP runtime binaries current."""

__version__ = "0.1.0"
