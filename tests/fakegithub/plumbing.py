"""Plumbing shared by the fake's modules: error and response types, the operation decorator,
timestamps and node ids."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """Raised by handlers: becomes a GitHub-shaped error response."""

    def __init__(
        self,
        status: int,
        message: str,
        errors: list[dict[str, Any]] | None = None,
        *,
        bodiless: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.bodiless = bodiless

    def body(self) -> dict[str, Any] | None:
        if self.bodiless:
            return None
        out: dict[str, Any] = {"message": self.message, "documentation_url": DOCS}
        if self.errors is not None:
            out["errors"] = self.errors
        out["status"] = str(self.status)
        return out


def _validation_failed(
    resource: str, code: str, field_: str | None = None, **extra: Any
) -> ApiError:
    err: dict[str, Any] = {"resource": resource, "code": code}
    if field_ is not None:
        err["field"] = field_
    err.update(extra)
    return ApiError(422, "Validation Failed", [err])


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or bytes for raw downloads
    headers: dict[str, str] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def op(method: str, template: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    def deco(fn: Callable[..., Response]) -> Callable[..., Response]:
        fn.__operation__ = (method, template)  # type: ignore[attr-defined]
        return fn

    return deco
