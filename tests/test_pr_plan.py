"""The pure PR planner and the PR text: no network, no GitHub."""

from __future__ import annotations

import tomllib

import pytest

from bot.errors import ConfigError
from bot.forge.port import PullRequest
from bot.notes.render import make_environment
from bot.prs.body import Metadata, parse_metadata
from bot.prs.plan import PrAction, Proposal, plan_pr
from bot.versions import Version

V = Version.parse
SHA_A = "a" * 64
SHA_B = "b" * 64
BASE = """\
# the buildpack's versions
[stacks.heroku-24]
build-image = "heroku/heroku:24-build"
run-image = "heroku/heroku:24"

[components.mono]
version = "6.14.0"  # kept by release-bot
source = "https://dl.winehq.org/mono/sources/mono/mono-{version}.tar.xz"
sha256 = "6dd64b3900f5e5d5f55016d89ccf7635c8739cbb33cdb81c1c3b61622e91d510"

[components.xsp]
version = "4.7.1"
source = "https://github.com/mono/xsp/archive/refs/tags/{version}.tar.gz"
requires = ["mono"]
"""
ENV = make_environment()


def proposal(version: str = "6.14.1", sha: str = SHA_A, **kw: str) -> Proposal:
    return Proposal("mono", V(version), sha,
                    f"https://dl.winehq.org/mono/sources/mono/mono-{version}.tar.xz", **kw)


def pull(number: int, version: str, *, state: str = "open", merged: bool = False,
         sha: str = SHA_A, old: str = "6.14.0", component: str = "mono") -> PullRequest:
    body = "text\n" + Metadata(component, V(old), V(version), sha).comment() + "\n"
    return PullRequest(number, "open" if state == "open" else "closed", merged,
                       f"Bump {component} from {old} to {version}", body,
                       f"https://x/pull/{number}")


def plan(p: Proposal, pulls: list[PullRequest] | None = None, base: str = BASE) -> PrAction:
    return plan_pr(p, base, pulls or [], env=ENV)


def test_create_changes_only_version_and_sha256() -> None:
    action = plan(proposal())
    assert action.kind == "create"
    assert action.branch == "release-bot/mono"
    assert action.title == "Bump mono from 6.14.0 to 6.14.1"
    assert action.number is None
    before, after = tomllib.loads(BASE), tomllib.loads(action.new_text)
    before["components"]["mono"].update(version="6.14.1", sha256=SHA_A)
    assert after == before
    assert "# kept by release-bot" in action.new_text  # comments survive
    assert action.commit_message.startswith("Bump mono from 6.14.0 to 6.14.1\n")
    meta = parse_metadata(action.body)
    assert meta == Metadata("mono", V("6.14.0"), V("6.14.1"), SHA_A)


def test_body_names_versions_update_type_links_and_checksum() -> None:
    action = plan(proposal("7.0.0", release_url="https://gitlab.winehq.org/mono/mono/-/tags/"
                                                "mono-7.0.0", tag="mono-7.0.0"))
    body = action.body
    assert "`6.14.0`" in body
    assert "`7.0.0`" in body
    assert "**major**" in body
    assert "(https://dl.winehq.org/mono/sources/mono/mono-7.0.0.tar.xz)" in body
    assert "(https://gitlab.winehq.org/mono/mono/-/tags/mono-7.0.0)" in body
    assert f"`{SHA_A}`" in body


def test_upstream_strings_are_escaped_in_the_body() -> None:
    action = plan(proposal(tag="x` @everyone <script>alert(1)</script> [a](javascript:x)",
                           release_url="https://example.org/r) [evil](https://evil.example"))
    body = action.body
    assert "<script>" not in body
    assert "@everyone" not in body
    assert "[a](javascript:" not in body
    assert "\\[a\\](javascript:x)" in body  # shown as text, not a link
    assert "[evil](https://evil" not in body
    # the metadata still parses and says what the PR proposes
    assert parse_metadata(body) == Metadata("mono", V("6.14.0"), V("6.14.1"), SHA_A)


@pytest.mark.parametrize("version", ["6.14.0", "6.12.0.206"])
def test_noop_when_the_default_branch_has_it_or_newer(version: str) -> None:
    action = plan(proposal(version))
    assert action.kind == "noop"
    assert "already has 6.14.0" in action.reason
    assert action.new_text == ""


def test_noop_when_the_open_pr_already_proposes_exactly_this() -> None:
    action = plan(proposal(), [pull(4, "6.14.1")])
    assert action.kind == "noop"
    assert action.number == 4


@pytest.mark.parametrize(("existing", "why"), [
    (pull(4, "6.14.1", sha=SHA_B), "same version, other checksum"),
    (pull(4, "6.14.1", old="6.12.0.206"), "the default branch's version moved"),
    (pull(4, "6.14.0.9"), "older version"),
    (PullRequest(4, "open", False, "edited", "no metadata", "u"),
     "body edited by a person"),
])
def test_update_the_same_open_pr(existing: PullRequest, why: str) -> None:
    action = plan(proposal(), [existing])
    assert action.kind == "update", why
    assert action.number == 4
    assert action.title == "Bump mono from 6.14.0 to 6.14.1"
    assert parse_metadata(action.body) == Metadata("mono", V("6.14.0"), V("6.14.1"), SHA_A)


def test_update_the_oldest_open_pr_when_there_are_several() -> None:
    action = plan(proposal("6.14.2"), [pull(9, "6.14.1"), pull(3, "6.14.1")])
    assert (action.kind, action.number) == ("update", 3)


@pytest.mark.parametrize("proposed", ["6.14.2", "6.14.1", "6.14.1.5"])
def test_a_closed_unmerged_pr_blocks_its_version_and_older(proposed: str) -> None:
    action = plan(proposal(proposed), [pull(5, "6.14.2", state="closed")])
    assert action.kind == "skip-closed"
    assert action.number == 5
    assert "#5" in action.reason


def test_a_version_newer_than_the_closed_one_is_proposed() -> None:
    action = plan(proposal("6.14.3"), [pull(5, "6.14.2", state="closed"),
                                       pull(2, "6.14.1", state="closed")])
    assert action.kind == "create"
    assert action.title == "Bump mono from 6.14.0 to 6.14.3"


def test_merged_prs_and_other_components_closed_prs_do_not_block() -> None:
    pulls = [pull(5, "6.14.9", state="closed", merged=True),
             pull(6, "6.14.9", state="closed", component="xsp")]
    assert plan(proposal("6.14.1"), pulls).kind == "create"


def test_a_closed_pr_blocks_but_the_open_one_is_still_left_alone() -> None:
    action = plan(proposal("6.14.3"), [pull(5, "6.14.2", state="closed"), pull(7, "6.14.3")])
    assert (action.kind, action.number) == ("noop", 7)


def test_unknown_component_on_the_default_branch_is_a_config_error() -> None:
    p = Proposal("gtk", V("1.0"), SHA_A, "https://example.org/gtk-1.0.tar.gz")
    with pytest.raises(ConfigError, match=r"'gtk' is not in versions\.toml"):
        plan(p)


def test_metadata_round_trips_and_cannot_close_its_comment() -> None:
    meta = Metadata("mono-x--y", V("6.14.0"), V("6.14.1"), SHA_A)
    comment = meta.comment()
    inner = comment.removeprefix("<!--").removesuffix("-->")
    assert "--" not in inner
    assert ">" not in inner
    assert parse_metadata(f"body\n{comment}\n") == meta


@pytest.mark.parametrize("body", [
    None, "", "no metadata",
    '<!-- release-bot: {"component": "mono"} -->',
    '<!-- release-bot: {"component":"mono","from":"6.14.0","version":"6.14.1;rm -rf /",'
    f'"sha256":"{SHA_A}"}} -->',
    '<!-- release-bot: {"component":"mono","from":"6.14.0","version":"6.14.1",'
    '"sha256":"xyz"} -->',
    "<!-- release-bot: [1, 2] -->",
    "<!-- release-bot: {not json} -->",
])
def test_damaged_or_hostile_metadata_is_ignored(body: str | None) -> None:
    assert parse_metadata(body) is None
