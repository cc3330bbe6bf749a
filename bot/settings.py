"""Settings: the environment and global CLI options, read once, in the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SECRET_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "RELEASE_BOT_GITHUB_TOKEN",
)
DEFAULT_STORE = "file://dist/store"
DEFAULT_GITHUB_API = "https://api.github.com"


@dataclass(frozen=True)
class Settings:
    config_path: Path = Path("versions.toml")
    github_token: str | None = None
    github_repository: str | None = None
    github_api_url: str = DEFAULT_GITHUB_API
    gitlab_token: str | None = None
    aws_endpoint_url: str | None = None
    store_url: str = DEFAULT_STORE
    docker_host: str | None = None
    cache_dir: Path = Path(".cache/release-bot")
    dist_dir: Path = Path("dist")
    in_actions: bool = False
    step_summary: Path | None = None
    output_file: Path | None = None
    secrets: tuple[str, ...] = ()
    # Proxies for upstream HTTP (http_proxy / https_proxy / no_proxy, lower case first, like
    # curl and urllib) and a CA bundle (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE), read once here.
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None
    ca_bundle: str | None = None
    # The variables boto3's standard credential chain reads (passed to boto3.Session, never
    # to a container).
    aws_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        config_path: Path | None = None,
    ) -> Settings:
        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def proxy(scheme: str) -> str | None:
            return (get(f"{scheme}_proxy") or get(f"{scheme.upper()}_PROXY") or get("all_proxy")
                    or get("ALL_PROXY"))

        actions = env.get("GITHUB_ACTIONS") == "true"
        cache = get("RELEASE_BOT_CACHE") or ".cache/release-bot"
        return cls(
            config_path=config_path or Path("versions.toml"),
            github_token=get("RELEASE_BOT_GITHUB_TOKEN") or get("GITHUB_TOKEN") or get(
                "GH_TOKEN"),
            github_repository=get("GITHUB_REPOSITORY"),
            github_api_url=(get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/"),
            gitlab_token=get("GITLAB_TOKEN"),
            aws_endpoint_url=get("AWS_ENDPOINT_URL"),
            store_url=get("RELEASE_BOT_STORE") or DEFAULT_STORE,
            docker_host=get("DOCKER_HOST"),
            cache_dir=Path(cache),
            dist_dir=Path(get("RELEASE_BOT_DIST") or "dist"),
            in_actions=actions,
            step_summary=Path(p) if actions and (p := get("GITHUB_STEP_SUMMARY")) else None,
            output_file=Path(p) if actions and (p := get("GITHUB_OUTPUT")) else None,
            secrets=tuple(v for name in SECRET_VARIABLES if (v := get(name))) + tuple(
                p for url in (proxy("http"), proxy("https")) if url
                and (p := urlsplit(url).password)),  # a proxy's password, masked in logs
            http_proxy=proxy("http"),
            https_proxy=proxy("https"),
            no_proxy=get("no_proxy") or get("NO_PROXY"),
            ca_bundle=get("REQUESTS_CA_BUNDLE") or get("CURL_CA_BUNDLE"),
            aws_env={k: v for k, v in env.items() if k.startswith("AWS_")},
        )
