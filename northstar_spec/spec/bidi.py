"""Bidirectional control characters: found in spec files, escaped wherever spec text is shown.

These invisible characters reorder the text around them ("Trojan Source"):
a name, a filter or a comment can read one way in a review and mean
another. A spec that contains one is a finding (NS008); and in case a
project turns that rule off, every place that shows spec text to a person
(terminal output, markdown, dashboards, the North Star page) shows them as
visible `⟨U+202E⟩` marks instead of letting them reorder what follows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

BIDI_NAMES = {
    "\u202a": "left-to-right embedding",
    "\u202b": "right-to-left embedding",
    "\u202c": "pop directional formatting",
    "\u202d": "left-to-right override",
    "\u202e": "right-to-left override",
    "\u2066": "left-to-right isolate",
    "\u2067": "right-to-left isolate",
    "\u2068": "first strong isolate",
    "\u2069": "pop directional isolate",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u061c": "Arabic letter mark",
}
BIDI_CONTROLS = re.compile("[" + "".join(BIDI_NAMES) + "]")


def escape_bidi(text: str) -> str:
    """`text` with every bidi control character replaced by a visible `⟨U+XXXX⟩` mark."""
    return BIDI_CONTROLS.sub(lambda match: f"⟨U+{ord(match.group()):04X}⟩", text)


def escape_bidi_in(data: Any) -> Any:
    """Every string in a tree of dicts and lists (keys too) escaped; other values unchanged."""
    if isinstance(data, str):
        return escape_bidi(data)
    if isinstance(data, dict):
        return {escape_bidi_in(key): escape_bidi_in(value) for key, value in data.items()}
    if isinstance(data, list):
        return [escape_bidi_in(value) for value in data]
    return data


def find_bidi(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, character) of the first bidi control character on each line that has one, 1-based."""
    for number, line in enumerate(text.split("\n"), start=1):
        match = BIDI_CONTROLS.search(line)
        if match:
            yield number, match.start() + 1, match.group()
