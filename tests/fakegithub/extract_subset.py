"""Vendor the part of GitHub's OpenAPI description that the fake server implements.

Run once (and again whenever ``operations.py`` changes or the description is updated)::

    .venv/bin/python tests/fakegithub/extract_subset.py \
        [/work/shared/github-openapi/api.github.com.json]

It writes ``tests/fakegithub/openapi-subset.json``: the operations listed in
``operations.OPERATIONS`` with the transitive closure of every ``$ref`` they use
(components/schemas, responses, parameters, headers), minus examples, plus an
``x-fakegithub-source`` header recording the source file, its ``info.version`` and the date.
Tests read only the vendored subset, never the full description.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SOURCE = Path("/work/shared/github-openapi/api.github.com.json")
DEFAULT_OUTPUT = HERE / "openapi-subset.json"

if __package__ in (None, ""):
    sys.path.insert(0, str(HERE))
    from operations import FALLBACK_ERROR_SCHEMAS, OPERATIONS  # type: ignore[import-not-found]
else:
    from .operations import FALLBACK_ERROR_SCHEMAS, OPERATIONS

DROP_KEYS = frozenset({"examples", "example"})


def _strip(node: Any, *, in_properties: bool = False) -> Any:
    """Copy ``node`` without examples (but keep properties that happen to be named so)."""
    if isinstance(node, dict):
        return {
            k: _strip(v, in_properties=(k == "properties" and not in_properties))
            for k, v in node.items()
            if in_properties or k not in DROP_KEYS
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            ref = cur.get("$ref")
            if isinstance(ref, str):
                out.append(ref)
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return out


def build_subset(full: dict[str, Any], source_name: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, template in OPERATIONS:
        item = full["paths"].get(template)
        if item is None or method.lower() not in item:
            raise SystemExit(f"operation not in the description: {method} {template}")
        out_item = paths.setdefault(template, {})
        if "parameters" in item:
            out_item["parameters"] = _strip(item["parameters"])
        out_item[method.lower()] = _strip(item[method.lower()])

    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths) + [f"#/components/schemas/{n}" for n in FALLBACK_ERROR_SCHEMAS]
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        if not ref.startswith("#/components/"):
            raise SystemExit(f"unsupported $ref {ref}")
        _, _, section, name = ref.split("/", 3)
        if section == "examples":
            continue  # examples are dropped (they are stripped from the copied nodes too)
        target = _strip(full["components"][section][name])
        components.setdefault(section, {})[name] = target
        pending.extend(_refs(target))

    sorted_components = {s: dict(sorted(v.items())) for s, v in sorted(components.items())}

    return {
        "openapi": full["openapi"],
        "x-fakegithub-source": {
            "file": source_name,
            "info_version": full["info"]["version"],
            "info_title": full["info"]["title"],
            "extracted_on": datetime.date.today().isoformat(),
            "operations": len(OPERATIONS),
            "generator": "tests/fakegithub/extract_subset.py",
            "license": "MIT, see OPENAPI-LICENSE",
        },
        "info": full["info"],
        "servers": full.get("servers", []),
        "paths": paths,
        "components": sorted_components,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    full = json.loads(args.source.read_text(encoding="utf-8"))
    subset = build_subset(full, args.source.name)
    text = json.dumps(subset, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
    args.output.write_text(text, encoding="utf-8")
    n_schemas = len(subset["components"].get("schemas", {}))
    ops = len(OPERATIONS)
    print(f"wrote {args.output} ({len(text)} bytes, {ops} operations, {n_schemas} schemas)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
