"""Validate fake-server responses against the vendored GitHub OpenAPI subset."""

from __future__ import annotations

import json
import re
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from .operations import FALLBACK_ERROR_SCHEMAS

SUBSET_PATH = Path(__file__).resolve().parent / "openapi-subset.json"
BASE_URI = "urn:fakegithub:openapi-subset"


def _pointer_escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _discriminator_tolerant(cls: Any, *, one_of_as_any_of: bool = False) -> Any:
    """GitHub's description puts a ``discriminator`` on oneOf's whose alternatives include an
    array (``content-directory`` for GET contents): a discriminator only applies to objects, so
    for non-objects validate the plain oneOf/anyOf/allOf instead of failing outright.

    ``one_of_as_any_of`` (used for error statuses only): error bodies are described as e.g.
    ``oneOf: [basic-error, repository-rule-violation-error]`` whose alternatives have no required
    properties, so every real GitHub error body matches both and a strict oneOf rejects it.
    """
    replaced = {}
    for keyword in ("oneOf", "anyOf", "allOf"):
        original = cls.VALIDATORS[keyword]

        def keyword_fn(
            validator: Any, value: Any, instance: Any, schema: Any, _original: Any = original
        ) -> Any:
            if "discriminator" in schema and not isinstance(instance, dict):
                schema = {k: v for k, v in schema.items() if k != "discriminator"}
            return _original(validator, value, instance, schema)

        replaced[keyword] = keyword_fn
    if one_of_as_any_of:
        replaced["oneOf"] = replaced["anyOf"]
    return extend(cls, replaced)


class SchemaViolation(AssertionError):
    """A response body does not conform to GitHub's OpenAPI description."""


class ResponseValidator:
    """Looks up ``(method, path template, status)`` in the subset and validates bodies.

    Compiled validators are cached per (operation, status); building the registry once per
    process is enough (the class keeps a shared default instance, see ``default()``).
    """

    _default: ResponseValidator | None = None
    _default_lock = threading.Lock()

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        if spec is None:
            spec = json.loads(SUBSET_PATH.read_text(encoding="utf-8"))
        self.spec = spec
        version = str(spec.get("openapi", "3.0.3"))
        if version.startswith("3.0"):
            base: Any = OAS30Validator
            specification = DRAFT4
        else:
            base = OAS31Validator
            specification = DRAFT202012
        self._cls: Any = _discriminator_tolerant(base)
        self._error_cls: Any = _discriminator_tolerant(base, one_of_as_any_of=True)
        resource = Resource.from_contents(spec, default_specification=specification)
        self._registry: Registry[Any] = Registry().with_resource(BASE_URI, resource)
        self._cache: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> ResponseValidator:
        with cls._default_lock:
            if cls._default is None:
                cls._default = cls()
            return cls._default

    @cached_property
    def source(self) -> dict[str, Any]:
        return dict(self.spec.get("x-fakegithub-source", {}))

    def _schema_pointer(self, method: str, template: str, status: int) -> str | None:
        """JSON pointer to the response schema, or None if the status has no JSON body.

        Raises SchemaViolation for an operation/status the description does not document.
        """
        op = self.spec["paths"].get(template, {}).get(method.lower())
        if op is None:
            raise SchemaViolation(f"{method} {template}: operation not in the OpenAPI subset")
        responses = op["responses"]
        key = str(status)
        if key not in responses:
            if status >= 400:
                return None  # handled by the fallback error schemas
            raise SchemaViolation(
                f"{method} {template}: status {status} is not documented "
                f"(documented: {sorted(responses)})"
            )
        base = f"/paths/{_pointer_escape(template)}/{method.lower()}/responses/{key}"
        response = responses[key]
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[-1]
            response = self.spec["components"]["responses"][name]
            base = f"/components/responses/{_pointer_escape(name)}"
        content = response.get("content")
        if not content:
            return ""  # documented as bodiless
        media = "application/json" if "application/json" in content else next(iter(content))
        return f"{base}/content/{_pointer_escape(media)}/schema"

    def _compiled(self, method: str, template: str, status: int) -> Any:
        key = (method, template, str(status))
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        pointer = self._schema_pointer(method, template, status)
        if pointer == "" and status >= 400:
            pointer = None  # documented bodiless error: GitHub still sends its error JSON
        if pointer is None:
            schema: dict[str, Any] = {
                "anyOf": [
                    {"$ref": f"{BASE_URI}#/components/schemas/{n}"} for n in FALLBACK_ERROR_SCHEMAS
                ]
            }
        elif pointer == "":
            schema = {}
        else:
            schema = {"$ref": f"{BASE_URI}#{pointer}"}
        cls = self._error_cls if status >= 400 else self._cls
        compiled = (
            pointer == "",
            cls(schema, registry=self._registry, format_checker=cls.FORMAT_CHECKER),
        )
        with self._lock:
            self._cache[key] = compiled
        return compiled

    def errors(self, method: str, template: str, status: int, body: Any) -> list[str]:
        """Return human-readable violations (empty list when the response conforms)."""
        try:
            bodiless, validator = self._compiled(method, template, status)
        except SchemaViolation as exc:
            return [str(exc)]
        if body is None and status >= 400:
            return []  # an error without a body is always acceptable
        if bodiless:
            if body not in (None, b"", ""):
                return [f"{method} {template} {status}: documented without a body, got one"]
            return []
        errs = list(validator.iter_errors(body))
        if not errs:
            return []
        best = best_match(errs)
        details = [_describe(e) for e in [best, *[e for e in errs if e is not best]][:5]]
        return [f"{method} {template} {status}: " + "; ".join(details)]

    def validate(self, method: str, template: str, status: int, body: Any) -> None:
        problems = self.errors(method, template, status, body)
        if problems:
            raise SchemaViolation("\n".join(problems))


def _describe(err: Any) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "<root>"
    message = err.message
    shown = repr(err.instance)
    if len(shown) > 80 and shown in message:
        message = message.replace(shown, _short(shown, 60))
    text = f"at {where} ({err.validator}): {_short(message)}"
    if err.context:  # oneOf/anyOf: say why each alternative failed
        subs = sorted(err.context, key=lambda e: -len(e.absolute_path))[:4]
        text += " [" + "; ".join(_describe(e) for e in subs) + "]"
    return text


def _short(message: str, limit: int = 200) -> str:
    message = re.sub(r"\s+", " ", message)
    return message if len(message) <= limit else message[: limit - 3] + "..."
