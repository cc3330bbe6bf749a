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
from bot.http import HttpClient, Proxies
from bot.http_cache import StateCache
from bot.report import ActionsReporter, Reporter, TerminalReporter
from bot.settings import Settings

if TYPE_CHECKING:
    import docker
    import jinja2
    from github import Github
    from mypy_boto3_s3 import S3Client

    from bot.build.runner import Builder
    from bot.containers.port import ContainerEngine
    from bot.store import ArtifactStore


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
                         config_path: Path | None = None) -> App:
        return cls(Settings.from_env(os.environ if env is None else env, config_path=config_path))

    @cached_property
    def config(self) -> Config:
        return load_config(self.settings.config_path)

    @cached_property
    def http(self) -> HttpClient:
        """Upstream HTTP with retries and a conditional-request cache in the state dir."""
        settings = self.settings
        proxies = Proxies(settings.http_proxy, settings.https_proxy, settings.no_proxy)
        return HttpClient(cache=StateCache(settings.cache_dir / "http-cache.msgpack"),
                          proxies=proxies, ca_bundle=settings.ca_bundle)

    @cached_property
    def source_cache(self) -> SourceCache:
        """Verified source downloads, shared by `pin`, `pr` and `build`."""
        return SourceCache(self.settings.cache_dir / "sources", self.http, self.reporter)

    @cached_property
    def github(self) -> Github:
        """GitHub for the commands that write (pull requests, comments, releases):
        `github_reader`, with the token required."""
        from bot.errors import UsageError

        if not self.settings.github_token:
            raise UsageError("GITHUB_TOKEN is not set; export a token that can write to the "
                             "repository (or use --dry-run)")
        return self.github_reader

    @cached_property
    def github_reader(self) -> Github:
        """The one GitHub client: the token when set, else anonymous (`pr --dry-run` reads
        with it; `github` is it with the token required). PyGithub's own retry (5xx, network,
        rate limits); no client-side throttle: `pr` writes a handful."""
        from github import Auth, Github

        from bot.forge.github import github_retry

        auth = Auth.Token(self.settings.github_token) if self.settings.github_token else None
        return Github(base_url=self.settings.github_api_url, auth=auth,
                      retry=github_retry(self.reporter.warning), timeout=30,
                      seconds_between_requests=None, seconds_between_writes=None)

    @cached_property
    def templates(self) -> jinja2.Environment:
        """jinja2 for bot/templates, with the filters that escape upstream text for Markdown."""
        from bot.notes.render import make_environment

        return make_environment()

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

    @cached_property
    def s3(self) -> S3Client:
        """boto3 S3: the standard credential chain (keys from the environment when set),
        AWS_ENDPOINT_URL honoured (path-style addressing then), botocore standard retries.

        Without credentials anywhere in the chain the client is unsigned (anonymous): jobs
        that only read index.json (plan, notes, release) need no AWS access, the artifact
        bucket being public-read for buildpacks; the store refuses writes then (exit 6).
        """
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config as BotoConfig
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        from bot.errors import UsageError

        env = self.settings.aws_env
        try:
            session = boto3.session.Session(
                aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
                aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
                aws_session_token=env.get("AWS_SESSION_TOKEN") or None,
                region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
                profile_name=env.get("AWS_PROFILE") or None,
            )
        except ProfileNotFound as exc:
            raise UsageError(f"{exc}; fix AWS_PROFILE or ~/.aws/config") from None
        endpoint = self.settings.aws_endpoint_url
        try:  # the standard variable; tests lower it to fail fast
            attempts = max(1, int(env.get("AWS_MAX_ATTEMPTS") or 5))
        except ValueError:
            raise UsageError(f"AWS_MAX_ATTEMPTS={env['AWS_MAX_ATTEMPTS']!r} is not a "
                             "number") from None
        config = BotoConfig(
            retries={"mode": "standard", "total_max_attempts": attempts},
            connect_timeout=10, read_timeout=120, max_pool_connections=16,
            s3={"addressing_style": "path"} if endpoint else {},
        )
        try:
            anonymous = session.get_credentials() is None
        except BotoCoreError as exc:  # e.g. a credential_process that fails
            raise UsageError(f"cannot load AWS credentials ({exc}); fix the AWS "
                             "configuration or unset it to read anonymously") from None
        if anonymous:
            config = config.merge(BotoConfig(signature_version=UNSIGNED))
        return session.client("s3", endpoint_url=endpoint, config=config)

    @cached_property
    def engine(self) -> ContainerEngine:
        """The container port over the Docker engine (build and smoke)."""
        from bot.containers.docker import DockerEngine

        return DockerEngine(self.docker)

    @cached_property
    def builder(self) -> Builder:
        """Builds in clean containers on the Docker engine (`build` and `run`)."""
        from bot.build.builder_image import base_image, ensure_builder_image
        from bot.build.runner import Builder

        return Builder(
            cache=self.source_cache,
            runtime=self.engine,
            images=lambda base, on_line, arch: ensure_builder_image(self.engine, base, on_line,
                                                                    arch=arch),
            base_images=lambda ref: base_image(self.engine, ref),
            reporter=self.reporter,
            recipe_root=self.settings.config_path.resolve().parent,
            secrets=self.settings.secrets,
        )

    def store(self, url: str | None = None) -> ArtifactStore:
        """The artifact store at `url` (default: RELEASE_BOT_STORE, else file://dist/store)."""
        from bot.store import open_store

        return open_store(url or self.settings.store_url, s3_client=lambda: self.s3,
                          endpoint_url=self.settings.aws_endpoint_url)
