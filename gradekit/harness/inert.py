"""Text that came from a submission, made inert: it can be shown, never obeyed.

Student code and notebooks write the messages, tracebacks, outputs and file names that end
up on a grader's terminal, in ``report.txt``, in logs and in the other report formats. A
terminal obeys escape sequences in them (colours faking a green score, a cleared screen, a
cursor moved back over the grader's own text, OSC 52 writing the clipboard, OSC 8 links), and
bidi controls reorder what is displayed. The result types clean every text field with
:func:`inert` when they are built, so every report format, and every writer a course adds,
shows the same harmless text. The policy, in order:

1. **Escape sequences are removed**, whole (ECMA-48 / ISO 6429, 7-bit and 8-bit forms):
   control sequences (``ESC [`` or C1 CSI U+009B, parameters, intermediates, final byte:
   SGR colours, cursor moves, erase), control strings (OSC ``ESC ]``, DCS ``ESC P``, SOS
   ``ESC X``, PM ``ESC ^``, APC ``ESC _`` and their C1 forms, up to BEL or ST) and the
   other escapes (``ESC`` + intermediates + final: ``ESC c`` reset, ``ESC 7``, ``ESC ( B``).
   IPython colours every traceback this way; the colours carry no information.
2. **Line ends**: ``\\r\\n`` becomes ``\\n``; a lone ``\\r``, which would send the cursor back
   over text already on the line, is shown as ``\\r``.
3. **Every other control is shown**, escaped as Python writes it: C0 controls but tab and
   newline, DEL, C1 controls (``\\x1b`` of an unfinished sequence, ``\\x9b``...), the bidi
   embeddings, overrides and isolates U+202A-U+202E and U+2066-U+2069 (``\\u202e``), and
   lone surrogates (undecodable bytes of an uploaded file name, which would otherwise make
   writing a UTF-8 report fail).

The result holds no character of rule 3's set, so cleaning twice changes nothing. A student
who types a backslash sequence literally gets the same text back: it is only text either way.
Format-specific neutralising (rich markup in the table, spreadsheet formulas in the CSV) stays
with those writers.
"""

from __future__ import annotations

import re
from typing import Any

_SEQUENCE = re.compile(
    # control strings: introducer, a body without controls, then BEL or ST
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x80-\x9f]*+(?:\x07|\x1b\\|\x9c)"
    # control sequences: CSI, parameter bytes, intermediate bytes, final byte
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*+[\x20-\x2f]*+[\x40-\x7e]"
    # other escapes; a bare ESC before a string or CSI introducer is an unfinished sequence
    r"|\x1b(?:[\x20-\x2f]++[\x30-\x7e]|[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e])"
)
#: what rule 3 shows; it includes ESC and CR, so text without any of these needs no work
_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\r":
        return "\\r"
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def strip_sequences(text: str) -> str:
    """``text`` without its terminal escape sequences (rule 1 only: colours gone, every
    other character kept)."""
    return _SEQUENCE.sub("", text)


def inert(text: str) -> str:
    """``text`` as it may be shown anywhere: sequences removed, other controls visible."""
    if not _SHOWN.search(text):
        return text
    return _SHOWN.sub(_shown, strip_sequences(text).replace("\r\n", "\n"))


def inert_data(value: Any) -> Any:
    """Every string in ``value`` (nested in lists, tuples and dict keys and values) made
    inert; ``value`` itself when nothing needed it, so clean data keeps its identity."""
    if isinstance(value, str):
        return inert(value)
    if isinstance(value, list | tuple):
        items = [inert_data(item) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        pairs = [(inert_data(key), inert_data(item)) for key, item in value.items()]
        if all(k is key and v is item
               for (k, v), (key, item) in zip(pairs, value.items(), strict=True)):
            return value
        return dict(pairs)
    return value
