"""YAML files -> plain data that remembers where every node came from.

PyYAML's composer keeps a start mark on every node; we walk the node graph
ourselves instead of letting PyYAML construct objects, so that each value and
each mapping key can be traced back to file:line:col. Doing the walk ourselves
also lets us refuse what a spec must never contain: duplicate keys (PyYAML
silently keeps the last one), alias bombs and tags that build objects.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from northstar_spec.spec import file_rules, scalars
from northstar_spec.spec.bidi import BIDI_NAMES, find_bidi
from northstar_spec.spec.diagnostics import Diagnostic, Location

MAX_FILE_BYTES = 1024 * 1024
#: A real spec has a few hundred nodes; aliases may repeat a node, so this
#: counts nodes as expanded, which is what an alias bomb multiplies.
MAX_NODES = 20_000

JsonPath = tuple[str | int, ...]


def _spec_loader(base: Any) -> Any:
    """A safe loader whose dates stay strings, as JSON Schema and editors see them,
    and whose booleans are YAML 1.2's: 1.1 reads yes/no/on/off as booleans
    (`NS503: off` would become False, `country: NO` too)."""
    loader: Any = type(f"Spec{base.__name__}", (base,), {})
    loader.yaml_implicit_resolvers = {
        first: [
            (tag, regexp)
            for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
        ]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return loader


_PURE_LOADER = _spec_loader(yaml.SafeLoader)
#: libyaml composes about three times faster, but recurses in C: a document
#: nested thousands deep crashes the process instead of raising. It is used
#: only when nesting is provably shallow (see _fast_loader_is_safe).
_C_LOADER = _spec_loader(yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else None
_C_LOADER_MAX_DEPTH = 2000


def _fast_loader_is_safe(text: str) -> bool:
    """Nesting depth is at most the number of flow brackets plus the longest line
    (block nesting needs at least one column of indentation or one `- ` per level)."""
    longest_line = max(map(len, text.splitlines()), default=0)
    return text.count("[") + text.count("{") + longest_line < _C_LOADER_MAX_DEPTH


_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}


@dataclass(frozen=True)
class Document:
    """One parsed YAML file: its data and the position of every node in it."""

    file: str
    data: Any
    value_marks: dict[JsonPath, tuple[int, int]] = field(repr=False)
    key_marks: dict[JsonPath, tuple[int, int]] = field(repr=False)
    #: The text the document was parsed from, and the style and extent of each scalar
    #: in it: what `locate_in` needs to point inside a value.
    text: str = field(default="", repr=False, compare=False)
    spans: dict[JsonPath, scalars.Span] = field(default_factory=dict, repr=False, compare=False)

    def locate(self, path: JsonPath = (), *, key: bool = False) -> Location:
        """The position of the node at `path`, or of its nearest ancestor that exists.

        With `key=True` a mapping entry points at its key rather than its value,
        which is where an editor should put the cursor for an unknown key.
        """
        path = tuple(path)
        while True:
            marks = self.key_marks if key and path in self.key_marks else self.value_marks
            if path in marks:
                line, col = marks[path]
                return Location(self.file, line, col)
            if not path:
                return Location(self.file, 1, 1)
            path = path[:-1]
            key = True

    def locate_in(self, path: JsonPath, offset: int) -> Location:
        """The position of character `offset` of the text value at `path`.

        Quotes, escapes, folded lines and block indentation are accounted for;
        where the value cannot be mapped back to the file exactly (see
        northstar_spec.spec.scalars), the scalar's own start.
        """
        path = tuple(path)
        span, value = self.spans.get(path), self._value(path)
        if span is None or not isinstance(value, str) or not value:
            return self.locate(path)
        where = scalars.positions(self._lines(), span, value)
        if where is None:
            return self.locate(path)
        line, col = where[max(0, min(offset, len(where) - 1))]
        return Location(self.file, line + 1, col + 1)

    def _value(self, path: JsonPath) -> Any:
        node = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def _lines(self) -> list[str]:
        return scalars.LINE_BREAK.split(self.text)


class _Walker:
    def __init__(self, loader: yaml.SafeLoader, doc_file: str):
        self.loader = loader
        self.file = doc_file
        self.value_marks: dict[JsonPath, tuple[int, int]] = {}
        self.key_marks: dict[JsonPath, tuple[int, int]] = {}
        self.spans: dict[JsonPath, scalars.Span] = {}
        self.diagnostics: list[Diagnostic] = []
        self.nodes = 0

    def at(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def walk(self, node: yaml.Node, path: JsonPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooComplex(node)
        self.value_marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _PLAIN_TAGS:
            # Tags build objects (python/*) or carry meaning a spec has no use
            # for; they are reported and the node is read as plain data.
            self.diagnostics.append(
                file_rules.YAML_SYNTAX.diagnostic(
                    self.at(node),
                    f"unsupported YAML tag {node.tag!r}",
                    hint="remove the tag; specs use plain YAML scalars, lists and mappings",
                )
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(child, path + (i,)) for i, child in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        self.spans.setdefault(
            path,
            scalars.Span(
                node.style,
                (node.start_mark.line, node.start_mark.column),
                (node.end_mark.line, node.end_mark.column),
            ),
        )
        return self._scalar(node)

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        if node.tag in _PLAIN_TAGS:
            try:
                return self.loader.construct_object(node)
            except ValueError:
                if node.tag != "tag:yaml.org,2002:int":
                    raise
                # An integer of more digits than Python converts (4,300): too large
                # for any bound, so it reads as infinite and the schema says so (NS017).
                return float("-inf" if node.value.lstrip().startswith("-") else "inf")
        return node.value

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict:
        result: dict = {}
        first_seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.diagnostics.append(
                    file_rules.YAML_SYNTAX.diagnostic(
                        self.at(key_node),
                        "a mapping key must be a plain scalar",
                        hint="use a simple word as the key",
                    )
                )
                continue
            key = self._scalar(key_node)
            if not isinstance(key, str):
                key = str(key_node.value)
            if key in first_seen:
                earlier = self.at(first_seen[key])
                self.diagnostics.append(
                    file_rules.DUPLICATE_KEY.diagnostic(
                        self.at(key_node),
                        f"duplicate key {key!r} (first defined at line {earlier.line})",
                        related=(earlier,),
                    )
                )
                continue
            first_seen[key] = key_node
            self.key_marks[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = self.walk(value_node, path + (key,))
        return result


class _TooComplex(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


_KIND = {list: "a list", type(None): "empty", str: "a text value"}


def _decode(raw: bytes, doc_file: str) -> tuple[str | None, list[Diagnostic]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [_too_large(len(raw), doc_file)]
    if b"\x00" in raw:
        return None, [
            file_rules.ENCODING.diagnostic(
                _byte_location(raw, raw.index(b"\x00"), doc_file), "file contains NUL bytes; it looks binary, not YAML"
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [
            file_rules.ENCODING.diagnostic(
                _byte_location(raw, exc.start, doc_file),
                f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            )
        ]
    return text.removeprefix("\ufeff"), []


def _too_large(size: int, doc_file: str) -> Diagnostic:
    return file_rules.FILE_TOO_LARGE.diagnostic(
        Location(doc_file),
        f"file is {size:,} bytes; a spec may have at most {MAX_FILE_BYTES:,}",
    )


def _byte_location(raw: bytes, offset: int, doc_file: str) -> Location:
    """Line and column (in characters, like every other finding) of a byte offset."""
    before = raw[:offset]
    line_start = before.rfind(b"\n") + 1
    col = len(before[line_start:].decode("utf-8", "replace")) + 1
    return Location(doc_file, before.count(b"\n") + 1, col)


def _unprintable(text: str, doc_file: str) -> Diagnostic | None:
    """YAML forbids control characters; PyYAML reports them by offset, we by line and column."""
    match = yaml.reader.Reader.NON_PRINTABLE.search(text) or _ODD_LINE_BREAK.search(text)
    if match is None:
        return None
    before = text[: match.start()]
    where = Location(doc_file, before.count("\n") + 1, match.start() - (before.rfind("\n") + 1) + 1)
    kind = "line separator" if _ODD_LINE_BREAK.match(match.group()) else "control character"
    return file_rules.YAML_SYNTAX.diagnostic(
        where,
        f"{kind} U+{ord(match.group()):04X} is not allowed in a spec",
        hint="delete the invisible character at this position",
    )


#: YAML counts these as line breaks, editors and code review do not: every
#: line number after one would be off, so they are refused.
_ODD_LINE_BREAK = re.compile("[\u0085\u2028\u2029]")


def parse(text_or_bytes: str | bytes, doc_file: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML document; never raises for anything a user can write."""
    if isinstance(text_or_bytes, bytes):
        text, problems = _decode(text_or_bytes, doc_file)
        if text is None:
            return None, problems
    else:
        text = text_or_bytes
    problem = _unprintable(text, doc_file)
    if problem:
        return None, [problem]
    loader = (_C_LOADER if _C_LOADER and _fast_loader_is_safe(text) else _PURE_LOADER)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [file_rules.NOT_A_MAPPING.diagnostic(Location(doc_file), "file is empty")]
        walker = _Walker(loader, doc_file)
        data = walker.walk(node, ())
    except yaml.MarkedYAMLError as exc:
        # At the end of the file the cause is wherever the unfinished construct began.
        at_end = exc.problem and "end of stream" in exc.problem and exc.context_mark is not None
        mark = exc.context_mark if at_end else (exc.problem_mark or exc.context_mark)
        where = Location(doc_file, mark.line + 1, mark.column + 1) if mark else Location(doc_file)
        message = " ".join(filter(None, [exc.context, exc.problem])) or "invalid YAML"
        return None, [file_rules.YAML_SYNTAX.diagnostic(where, message)]
    except _TooComplex as exc:
        return None, [
            file_rules.TOO_COMPLEX.diagnostic(
                walker.at(exc.node),
                f"document expands to more than {MAX_NODES:,} nodes (alias bomb?)",
            )
        ]
    except RecursionError:
        return None, [file_rules.TOO_COMPLEX.diagnostic(Location(doc_file), "document is nested too deeply")]
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        return None, walker.diagnostics + [
            file_rules.NOT_A_MAPPING.diagnostic(
                Location(doc_file, node.start_mark.line + 1, node.start_mark.column + 1),
                f"the document is {_KIND.get(type(data), 'a single value')}, not a mapping of keys to values",
            )
        ]
    return Document(
        doc_file, data, walker.value_marks, walker.key_marks, text, walker.spans
    ), walker.diagnostics + _bidi(text, doc_file)


def _bidi(text: str, doc_file: str) -> list[Diagnostic]:
    """Bidi control characters anywhere in the file, comments included: one finding per line."""
    return [
        file_rules.BIDI_CONTROL.diagnostic(
            Location(doc_file, line, col),
            f"invisible bidirectional control character U+{ord(char):04X} ({BIDI_NAMES[char]})",
        )
        for line, col, char in find_bidi(text)
    ]


def load(path: Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Read and parse a file; unreadable files become findings, not exceptions."""
    doc_file = display or str(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_FILE_BYTES:
                return None, [_too_large(size, doc_file)]
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [file_rules.UNREADABLE.diagnostic(Location(doc_file), f"cannot read file: {exc.strerror}")]
    return parse(raw, doc_file)
