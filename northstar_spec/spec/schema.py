"""JSON Schema validation of loaded documents, reported at the offending node.

`schemas/` at the top of the repository is the source of truth; the wheel
carries a copy inside the package. Errors carry a JSON path; the document's
marks turn that path into file:line:col, which is the gap check-jsonschema
leaves open.

Two validators, one verdict: most documents are valid, and for them the
compiled validator of jsonschema-rs answers in microseconds where Python's
jsonschema spends most of its time resolving `$ref`s. A document it does not
pass, or one holding anything but plain JSON values (a YAML date, a set, an
integer too long for it, a NaN), goes to Python's jsonschema, which explains
each error at its node. The fast path can only say "valid"; a test holds the
two to the same verdict on every fixture.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from northstar_spec.spec import file_rules
from northstar_spec.spec.diagnostics import Diagnostic
from northstar_spec.spec.loading import Document, JsonPath

SPEC_SCHEMA = "northstar.schema.json"
PROJECT_SCHEMA = "project.schema.json"


def schema_dir() -> Path:
    """Where the schemas are: inside the installed package, or in the checkout."""
    packaged = resources.files("northstar_spec") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    # An editable install or a plain checkout: the package has no copy.
    return Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def load_schema(name: str) -> dict:
    return json.loads((schema_dir() / name).read_text(encoding="utf-8"))


def _is_finite_number(checker: Any, instance: Any) -> bool:
    """JSON has no NaN or infinity; YAML's `.nan`, `.inf` and `1.0e+400` (a float overflow) are not numbers here."""
    return Draft202012Validator.TYPE_CHECKER.is_type(instance, "number") and not _non_finite(instance)


#: Draft 2020-12 whose numbers are finite: `.nan` fails `type: number` instead of every comparison.
_Validator = validators.extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("number", _is_finite_number)
)


@functools.cache
def _validator(name: str) -> Any:
    return _Validator(load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def _compiled(name: str) -> Any:
    return jsonschema_rs.validator_for(load_schema(name), validate_formats=True, offline=True)


#: The largest integer the compiled validator takes as a number (it reads 64-bit integers).
_LARGEST_INT = 2**63 - 1


def _plain_json(value: Any) -> bool:
    """Whether a loaded value holds only what JSON holds, so both validators see the same document."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is int:
            if not -_LARGEST_INT <= item <= _LARGEST_INT:
                return False
        elif kind is not str and kind is not bool and item is not None:
            return False
    return True


def is_valid(data: Any, schema_name: str) -> bool:
    """The fast verdict: True only when the document is certainly valid."""
    return _plain_json(data) and _compiled(schema_name).is_valid(data)


def json_path(path: JsonPath) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def validate(document: Document, schema_name: str) -> list[Diagnostic]:
    if is_valid(document.data, schema_name):
        return []
    errors = sorted(_validator(schema_name).iter_errors(document.data), key=lambda e: list(map(str, e.absolute_path)))
    diagnostics: list[Diagnostic] = []
    for error in errors:
        diagnostics.extend(_diagnose(error, document))
    # One node can fail several keywords; keep the first message per position and code.
    unique: dict[tuple, Diagnostic] = {}
    for d in diagnostics:
        unique.setdefault((d.location, d.code, d.message), d)
    return sorted(unique.values(), key=lambda d: d.sort_key)


def _diagnose(error: ValidationError, document: Document) -> Iterator[Diagnostic]:
    path: JsonPath = tuple(error.absolute_path)
    keyword = error.validator
    where = json_path(path)
    if "propertyNames" in error.schema_path:
        # jsonschema reports a bad mapping key at the mapping, with the key as the instance.
        key_path = path + (error.instance,)
        yield file_rules.INVALID_VALUE.diagnostic(
            document.locate(key_path, key=True),
            f"{error.instance!r} is not a valid name here",
            hint=_property_hint(error.schema),
            json_path=json_path(key_path),
        )
        return
    if keyword == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        for key in _extra_keys(error.instance, error.schema):
            guess = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            hint = (
                f"did you mean {guess[0]!r}?"
                if guess
                else (f"allowed keys here: {', '.join(allowed)}" if allowed else None)
            )
            if key == "<<":
                hint = "YAML merge keys are not supported; write the keys out"
            yield file_rules.UNKNOWN_KEY.diagnostic(
                document.locate(path + (key,), key=True),
                f"unknown key {key!r}",
                hint=hint,
                json_path=json_path(path + (key,)),
            )
        return
    if keyword == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        for name in missing:
            description = _property_description(error.schema, name) or _first_sentence(
                error.schema.get("description", "")
            )
            yield file_rules.MISSING_KEY.diagnostic(
                document.locate(path, key=True),
                f"missing required key {name!r}" + _parent(path),
                hint=description or None,
                json_path=where,
            )
        return
    wants_number = keyword == "type" and "number" in str(error.validator_value)
    if keyword in ("minimum", "maximum") or (wants_number and _non_finite(error.instance)):
        yield file_rules.NUMBER_OUT_OF_RANGE.diagnostic(
            document.locate(path),
            f"{_name(path)} is {_number(error.instance)}; a number here is finite and from -1e15 to 1e15",
            json_path=where,
        )
        return
    if keyword == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield file_rules.WRONG_TYPE.diagnostic(
            document.locate(path),
            f"{_name(path)} must be {_article(expected)}, not {_describe(error.instance)}",
            hint=_property_hint(error.schema),
            json_path=where,
        )
        return
    if keyword in ("oneOf", "anyOf"):
        titles = [str(s["title"]) for s in error.validator_value if isinstance(s, dict) and s.get("title")]
        message = f"{_name(path)} needs exactly one of: " + "; ".join(titles) if titles else error.message
        yield file_rules.INVALID_SHAPE.diagnostic(document.locate(path, key=True), message, json_path=where)
        return
    if keyword in ("enum", "const"):
        choices = error.validator_value if keyword == "enum" else [error.validator_value]
        guess = difflib.get_close_matches(str(error.instance), [str(c) for c in choices], n=1, cutoff=0.75)
        hint = f"did you mean {guess[0]!r}?" if guess else _property_hint(error.schema)
        yield file_rules.INVALID_VALUE.diagnostic(
            document.locate(path),
            f"{_name(path)} is {_yaml(error.instance)}; allowed: {', '.join(map(_yaml, choices))}",
            hint=hint,
            json_path=where,
        )
        return
    if keyword in ("minLength", "minProperties", "minItems"):
        yield file_rules.INVALID_VALUE.diagnostic(
            document.locate(path),
            f"{_name(path)} must not be empty",
            hint=_property_hint(error.schema),
            json_path=where,
        )
        return
    if keyword == "pattern":
        yield file_rules.INVALID_VALUE.diagnostic(
            document.locate(path),
            f"{_name(path)} {error.instance!r} is not well-formed",
            hint=_property_hint(error.schema),
            json_path=where,
        )
        return
    if keyword == "format":
        yield file_rules.INVALID_VALUE.diagnostic(
            document.locate(path),
            f"{_name(path)} {error.instance!r} is not a valid {error.validator_value}",
            hint="write dates as YYYY-MM-DD" if error.validator_value == "date" else None,
            json_path=where,
        )
        return
    yield file_rules.INVALID_VALUE.diagnostic(document.locate(path), f"{_name(path)}: {error.message}", json_path=where)


def _non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _number(value: Any) -> str:
    """A number as YAML writes it, short: `.nan`, `-.inf`, `a number of 400 digits`."""
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    text = str(value)  # YAML ints have at most 4,300 digits: the loader reads longer ones as infinite
    return f"a number of {len(text.lstrip('-'))} digits" if len(text) > 20 else text


def _extra_keys(instance: dict, schema: dict) -> list[str]:
    props = schema.get("properties", {})
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [k for k in instance if k not in props and not any(p.search(str(k)) for p in patterns)]


def _property_description(schema: dict, name: str) -> str:
    prop = schema.get("properties", {}).get(name, {})
    return _first_sentence(prop.get("description", ""))


def _property_hint(schema: dict) -> str | None:
    text = _first_sentence(schema.get("description", ""))
    examples = schema.get("examples")
    if examples and not isinstance(examples[0], (dict, list)):
        text += f" (e.g. {examples[0]})"
    return text.strip() or None


def _first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def _name(path: JsonPath) -> str:
    if not path:
        return "the document"
    return repr(path[-1]) if isinstance(path[-1], str) else json_path(path)


def _parent(path: JsonPath) -> str:
    return f" in {json_path(path)}" if path else ""


def _article(word: str) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "text",
        "number": "a number",
        "integer": "a whole number",
        "boolean": "true or false",
        "null": "empty",
    }
    return names.get(word, word)


def _yaml(value: Any) -> str:
    """A value as it is written in YAML, not as Python prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else str(value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "empty"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"
