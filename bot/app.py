"""The composition root: the only place that reads the environment and builds clients.

Commands receive an `App` and ask it for what they need; everything below works on the
objects it hands out. Tests build an `App` from `Settings.from_env({...})`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cache import SourceCache
from bot.config import Config, load_config
from bot.http import ConditionalCache, HttpClient
from bot.report import ActionsReporter, Reporter, TerminalReporter
from bot.settings import Settings

if TYPE_CHECKING:
    import docker
    from github import Github


def make_reporter(settings: Settings) -> Reporter:
    reporter: Reporter
    if settings.in_actions:
        reporter = ActionsReporter(summary_path=settings.step_summary,
                                   output_path=settings.output_file)
    else:
        reporter = TerminalReporter()
    for secret in settings.secrets:
        reporter.mask(secret)
    return reporter


class App:
    def __init__(self, settings: Settings, reporter: Reporter | None = None) -> None:
        self.settings = settings
        self.reporter = reporter if reporter is not None else make_reporter(settings)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None, *,
                         config_path: Path | None = None, debug: bool = False) -> App:
        return cls(Settings.from_env(os.environ if env is None else env,
                                     config_path=config_path, debug=debug))

    @cached_property
    def config(self) -> Config:
        return load_config(self.settings.config_path)

    @cached_property
    def http(self) -> HttpClient:
        """Upstream HTTP with retries and a conditional-request cache in the state dir."""
        cache = ConditionalCache.load(self.settings.cache_dir / "http-state.json")
        return HttpClient(cache=cache)

    @cached_property
    def source_cache(self) -> SourceCache:
        """Verified source downloads, shared by `pin`, `pr` and `build`."""
        return SourceCache(self.settings.cache_dir / "sources", self.http, self.reporter)

    @cached_property
    def github(self) -> Github:
        from github import Auth, Github

        from bot.errors import UsageError

        if not self.settings.github_token:
            raise UsageError("GITHUB_TOKEN is not set; export a token that can write to the "
                             "repository (or use --dry-run)")
        return Github(base_url=self.settings.github_api_url,
                      auth=Auth.Token(self.settings.github_token), retry=None, timeout=30)

    @cached_property
    def docker(self) -> docker.DockerClient:
        import docker as docker_sdk

        from bot.errors import UsageError

        base = self.settings.docker_host or "unix:///var/run/docker.sock"
        try:
            client = docker_sdk.DockerClient(base_url=base, timeout=600)
            client.ping()
        except Exception as exc:  # noqa: BLE001 - any failure means: no engine
            raise UsageError(f"cannot reach the Docker engine at {base} ({type(exc).__name__}); "
                             "start dockerd or run `make engine`") from None
        return client
