"""`python -m bot` is the same as `release-bot`."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
