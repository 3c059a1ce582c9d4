"""Where each character of a YAML scalar's value sits in the file.

A finding about a SQL fragment points inside the fragment ("the second
function call"), but the fragment is a YAML scalar: quoted, escaped, folded
over lines or written as a block. This module maps a character offset in the
scalar's value back to the line and column of the character that produced it,
for every scalar style (plain, 'single', "double", | literal, > folded).

The mapping is rebuilt from the file's text and checked against the value
PyYAML constructed: when the two disagree (a construct this module does not
model), there is no mapping and callers point at the scalar's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Line breaks as YAML counts them (NEL and the Unicode separators are refused by loading).
LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}

Position = tuple[int, int]  # 0-based line and column, like PyYAML's marks


@dataclass(frozen=True)
class Span:
    """A scalar node as the loader saw it: its style and where it starts and ends (0-based marks)."""

    style: str | None
    start: Position
    end: Position


def positions(lines: list[str], span: Span, value: str) -> list[Position] | None:
    """The position of every character of `value`, or None when it cannot be told exactly."""
    if span.style in ("|", ">"):
        mapped = _block(lines, span)
        if mapped is None:
            return None
        text = "".join(c for c, _ in mapped)
        # Chomping (`|-`, `|+`) only changes trailing line breaks.
        if text.rstrip("\n") != value.rstrip("\n"):
            return None
        return [p for _, p in mapped[: len(value)]] + [mapped[-1][1]] * max(0, len(value) - len(mapped))
    mapped = _flow(lines, span)
    if mapped is None or "".join(c for c, _ in mapped) != value:
        return None
    return [p for _, p in mapped]


def _raw(lines: list[str], span: Span) -> list[tuple[str, Position]]:
    """The characters between the marks, line breaks as "\n" at the end of their line."""
    (l0, c0), (l1, c1) = span.start, span.end
    chars: list[tuple[str, Position]] = []
    for number in range(l0, min(l1, len(lines) - 1) + 1):
        line = lines[number]
        first = c0 if number == l0 else 0
        last = c1 if number == l1 else len(line)
        chars.extend((line[col], (number, col)) for col in range(first, min(last, len(line))))
        if number != l1:
            chars.append(("\n", (number, len(line))))
    return chars


def _flow(lines: list[str], span: Span) -> list[tuple[str, Position]] | None:
    """Plain, single- and double-quoted scalars: quotes, escapes and line folding undone."""
    chars = _raw(lines, span)
    if span.style in ("'", '"'):
        if len(chars) < 2:
            return None
        chars = chars[1:-1]
    out: list[tuple[str, Position]] = []
    escaped: set[int] = set()  # indexes in `out` that came from an escape: folding keeps them
    i = 0
    while i < len(chars):
        char, where = chars[i]
        if span.style == '"' and char == "\\" and i + 1 < len(chars):
            code = chars[i + 1][0]
            if code == "\n":  # an escaped line break: it and the next line's indentation vanish
                i += 2
                while i < len(chars) and chars[i][0] in " \t":
                    i += 1
                continue
            if code in _HEX_DIGITS:
                digits = "".join(c for c, _ in chars[i + 2 : i + 2 + _HEX_DIGITS[code]])
                try:
                    out.append((chr(int(digits, 16)), where))
                except ValueError:
                    return None
                i += 2 + _HEX_DIGITS[code]
            elif code in _ESCAPES:
                out.append((_ESCAPES[code], where))
                i += 2
            else:
                return None
            escaped.add(len(out) - 1)
            continue
        if span.style == "'" and char == "'" and i + 1 < len(chars) and chars[i + 1][0] == "'":
            out.append(("'", where))
            i += 2
            continue
        if char in " \t\n":
            j = i
            while j < len(chars) and chars[j][0] in " \t":
                j += 1
            if j < len(chars) and chars[j][0] == "\n":
                i = _fold(chars, j, out)
                continue
        out.append((char, where))
        i += 1
    return out


def _fold(chars: list[tuple[str, Position]], i: int, out: list[tuple[str, Position]]) -> int:
    """Fold the line breaks starting at chars[i]: one break is a space, n breaks are n-1 newlines."""
    breaks: list[Position] = []
    while i < len(chars) and chars[i][0] in " \t\n":
        if chars[i][0] == "\n":
            breaks.append(chars[i][1])
        i += 1
    if len(breaks) == 1:
        out.append((" ", breaks[0]))
    else:
        out.extend(("\n", where) for where in breaks[1:])
    return i


def _block(lines: list[str], span: Span) -> list[tuple[str, Position]] | None:
    """Literal and folded block scalars: indentation removed, folded lines joined."""
    (l0, c0), (l1, c1) = span.start, span.end
    header = lines[l0][c0:].split("#", 1)[0].strip()
    explicit = next((int(c) for c in header[1:] if c.isdigit()), None)
    last = l1 if c1 > 0 else l1 - 1
    content = list(range(l0 + 1, min(last, len(lines) - 1) + 1))
    if explicit is not None:
        indent = _indentation(lines[l0]) + explicit
    else:
        text_lines = [lines[n] for n in content if lines[n].strip()]
        if not text_lines:
            return None
        indent = _indentation(text_lines[0])
    out: list[tuple[str, Position]] = []
    previous: str | None = None  # "normal" or "more" (more-indented) for the last text line
    breaks: list[Position] = []
    for number in content:
        line = lines[number]
        text = line[indent:]
        end = (number, len(line))
        if not line.strip():
            breaks.append(end)
            continue
        if _indentation(line) < indent:
            return None  # less indented than the block: not a line of it
        kind = "more" if text[:1] in (" ", "\t") else "normal"
        if previous is not None:
            if span.style == ">" and previous == kind == "normal":
                if len(breaks) == 1:
                    out.append((" ", breaks[0]))
                else:
                    out.extend(("\n", where) for where in breaks[1:])
            else:
                out.extend(("\n", where) for where in breaks)
        else:
            out.extend(("\n", where) for where in breaks)
        out.extend((char, (number, indent + col)) for col, char in enumerate(text))
        breaks = [end]
        previous = kind
    out.extend(("\n", where) for where in breaks)
    return out


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
