"""bot.versions: strict parsing, total ordering, textual equality, tags, update types."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.versions import (
    MAX_LENGTH,
    MAX_PARTS,
    InvalidVersion,
    Version,
    classify_update,
    version_from_tag,
)

V = Version.parse


# -- ordering --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "chain",
    [
        ["6.12.0.1000", "6.12.0.199", "6.12.0.90"],  # numeric, not lexicographic, 4th part
        ["6.14.0", "6.12.0.206"],  # a 3-part version beats a 4-part one of an older minor
        ["4.7.1", "4.7", "4.6"],  # a prefix sorts first
        ["10.0", "9.99.99.99"],
    ],
)
def test_ordering_chain(chain: list[str]) -> None:
    versions = [V(t) for t in chain]
    for bigger, smaller in itertools.pairwise(versions):
        assert bigger > smaller
        assert smaller < bigger
        assert not bigger < smaller
        assert bigger != smaller
    assert [v.text for v in sorted(versions)] == list(reversed(chain))
    assert max(versions).text == chain[0]


def test_equality_is_textual_but_order_stays_total() -> None:
    a, b = V("6.12.0"), V("6.12.0.0")
    assert a != b
    assert len({a, b}) == 2
    # exactly one of <, > holds, and it is consistent both ways
    assert (a < b) != (b < a)
    assert (a < b) == (b > a)
    assert a < b  # the prefix sorts first
    # same text -> equal and same hash, whatever object
    assert V("6.12.0") == a
    assert hash(V("6.12.0")) == hash(a)
    assert {V("6.12.0"): 1}[a] == 1


def test_leading_zeros_are_distinct_but_ordered() -> None:
    a, b = V("6.012"), V("6.12")
    assert a.parts == b.parts == (6, 12)
    assert a != b
    assert (a < b) != (b < a)


def test_not_comparable_with_strings() -> None:
    assert V("1.0") != "1.0"
    with pytest.raises(TypeError):
        _ = V("1.0") < "1.1"  # type: ignore[operator]


# -- strict parsing --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1", "6.14", "6.14.1", "6.12.0.199", "1.2.3.4.5.6",
                                  "0.0", "1" * MAX_LENGTH])
def test_accepts(text: str) -> None:
    v = V(text)
    assert v.text == text
    assert str(v) == text
    assert v.parts == tuple(int(p) for p in text.split("."))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "6.14.2;rm -rf /",
        "6.14.2 && echo",
        "$(id)",
        "6.14`id`",
        "6.14|x",
        "6.14>x",
        "../6.14.2",
        "6.14/2",
        "6\\14",
        " 6.14",
        "6.14 ",
        "6 .14",
        "6.14\t",
        "6.14\n",
        "\n6.14",
        "6.14\r",
        "٦.١٤",  # Arabic-Indic digits: int() would accept them
        "６.１４",  # full-width digits
        "6.1٤",
        "1.2.3.4.5.6.7",  # > 6 parts
        "1" * (MAX_LENGTH + 1),  # > 40 characters
        "1.2.3.4.5." + "9" * 40,
        "6..14",
        ".6.14",
        "6.14.",
        "v6.14",
        "6.14-rc1",
        "6.14a",
        "+6.14",
        "-6.14",
        "1_000.1",  # int() would accept underscores
        "1e3",
    ],
)
def test_rejects(text: str) -> None:
    with pytest.raises(InvalidVersion):
        V(text)


def test_rejects_non_strings() -> None:
    with pytest.raises(InvalidVersion):
        V(6.14)  # type: ignore[arg-type]


def test_limits_are_the_documented_ones() -> None:
    assert MAX_PARTS == 6
    assert MAX_LENGTH == 40
    assert V(".".join(["1"] * MAX_PARTS)).parts == (1,) * MAX_PARTS
    with pytest.raises(InvalidVersion):
        V(".".join(["1"] * (MAX_PARTS + 1)))


def test_rejection_message_is_one_line_even_for_hostile_input() -> None:
    with pytest.raises(InvalidVersion) as info:
        V("6.14\n::error::forged")
    # repr() keeps the newline escaped: nothing can forge a second log line
    assert "\n" not in str(info.value)


# -- tags ------------------------------------------------------------------------------------

MONO_TAG = re.compile(r"mono-(?P<version>[0-9]+(?:\.[0-9]+)*)")
ANY_TAG = re.compile(r"(?P<version>.+)", re.DOTALL)  # deliberately lax: the parser must guard


def test_version_from_tag() -> None:
    v = version_from_tag("mono-6.12.0.199", MONO_TAG)
    assert v == V("6.12.0.199")
    assert v is not None and v.parts == (6, 12, 0, 199)
    assert version_from_tag("mono-6.14.1", MONO_TAG) == V("6.14.1")


@pytest.mark.parametrize(
    "tag",
    [
        "mono-6.14.2;rm -rf /",
        "xmono-6.14.2",  # must match the whole tag
        "mono-6.14.2-rc1",
        "mono-6.14.2\n",
        "mono-",
        "mono-" + "1." * 150 + "1",
    ],
)
def test_hostile_tags_give_none_with_strict_pattern(tag: str) -> None:
    assert version_from_tag(tag, MONO_TAG) is None


@pytest.mark.parametrize(
    "tag",
    ["6.14.2;rm -rf /", "../6.14.2", "6.14.2\n", "6.14.2 ", "٦.١٤", "1" * 300,
     "1." * 149 + "1", "1.2.3.4.5.6.7"],
)
def test_hostile_tags_give_none_even_with_a_lax_pattern(tag: str) -> None:
    assert version_from_tag(tag, ANY_TAG) is None


def test_tag_pattern_without_version_group_gives_none() -> None:
    assert version_from_tag("6.14.1", re.compile(r"[0-9.]+")) is None
    # an optional group that did not take part
    assert version_from_tag("latest", re.compile(r"(?P<version>[0-9.]+)|latest")) is None


# -- update types ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("6.12.0.199", "7.0.0", "major"),
        ("4.7.1", "5.0", "major"),
        ("6.12.0.206", "6.14.0", "minor"),
        ("4.6", "4.7", "minor"),
        ("6.14.0", "6.14.1", "patch"),
        ("4.7", "4.7.1", "patch"),
        # a 4th-part change (Mono's build counter) is a patch
        ("6.12.0.199", "6.12.0.206", "patch"),
        ("6.12.0.90", "6.12.0.1000", "patch"),
        ("6.14.1", "6.14.1", "none"),
        ("6.14.0", "6.12.0.206", "downgrade"),
        ("6.12.0.1000", "6.12.0.199", "downgrade"),
        ("4.7.1", "4.7", "downgrade"),
    ],
)
def test_classify_update(old: str, new: str, kind: str) -> None:
    assert classify_update(V(old), V(new)) == kind


# -- properties ------------------------------------------------------------------------------

_part = st.integers(min_value=0, max_value=10**6).map(str) | st.sampled_from(["0", "00", "007"])
versions = (
    st.lists(_part, min_size=1, max_size=MAX_PARTS)
    .map(".".join)
    .filter(lambda t: len(t) <= MAX_LENGTH)
    .map(V)
)
# a small alphabet makes equal and prefix-related versions common
small_versions = st.lists(st.sampled_from(["0", "1", "2", "01"]), min_size=1, max_size=4).map(
    lambda parts: V(".".join(parts)))
any_version = versions | small_versions


@given(any_version, any_version)
def test_total_and_antisymmetric(a: Version, b: Version) -> None:
    outcomes = [a < b, a == b, a > b]
    assert outcomes.count(True) == 1
    assert (a <= b and b <= a) == (a == b)
    assert (a < b) == (b > a)
    assert (a == b) == (a.text == b.text)


@given(any_version, any_version, any_version)
def test_transitive(a: Version, b: Version, c: Version) -> None:
    x, y, z = sorted([a, b, c])
    assert x <= y <= z
    assert x <= z
    if a < b and b < c:
        assert a < c
    if a <= b and b <= c:
        assert a <= c


@given(any_version)
def test_round_trip(v: Version) -> None:
    again = V(str(v))
    assert again == v
    assert again.parts == v.parts
    assert hash(again) == hash(v)


@given(st.lists(any_version, max_size=30))
def test_sort_consistent_with_numeric_tuples(vs: list[Version]) -> None:
    ordered = sorted(vs)
    tuples = [v.parts for v in ordered]
    assert tuples == sorted(v.parts for v in vs)
    for v in vs:
        assert v.parts == tuple(int(p) for p in v.text.split("."))


@given(any_version, any_version)
def test_classify_agrees_with_order(a: Version, b: Version) -> None:
    kind = classify_update(a, b)
    if a == b:
        assert kind == "none"
    elif b < a:
        assert kind == "downgrade"
    else:
        assert kind in ("major", "minor", "patch")
        if kind == "major":
            assert b.parts[0] != a.parts[0]
