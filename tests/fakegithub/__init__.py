"""Stateful fake GitHub REST API for tests (see README.md)."""

from .plumbing import ApiError
from .server import FakeGitHub, Fault, RecordedRequest, Repo
from .validator import ResponseValidator, SchemaViolation

__all__ = [
    "ApiError",
    "FakeGitHub",
    "Fault",
    "RecordedRequest",
    "Repo",
    "ResponseValidator",
    "SchemaViolation",
]
