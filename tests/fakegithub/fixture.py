"""pytest plugin: ``pytest_plugins = ["tests.fakegithub.fixture"]``.

``fake_github`` (function-scoped) yields a started :class:`FakeGitHub` and, at teardown, fails
the test if any response the fake produced violated GitHub's OpenAPI description, or if the
code under test called an endpoint the fake does not implement (set
``server.allow_unimplemented = True`` in a test that expects such 404s).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeGitHub
from .validator import ResponseValidator


@pytest.fixture(scope="session")
def fake_github_validator() -> ResponseValidator:
    """The compiled-validator cache, shared by every fake server of the session."""
    return ResponseValidator.default()


@pytest.fixture
def fake_github(
    fake_github_validator: ResponseValidator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeGitHub]:
    server = FakeGitHub(validator=fake_github_validator).start()
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    try:
        yield server
    finally:
        server.stop()
    assert not server.validation_errors, (
        "fake GitHub produced responses that violate GitHub's OpenAPI description:\n"
        + "\n".join(server.validation_errors)
    )
    if not getattr(server, "allow_unimplemented", False):
        assert not server.unimplemented, (
            "code under test called GitHub endpoints the fake does not implement:\n"
            + "\n".join(server.unimplemented)
        )
