"""Text for a terminal with nothing in it that a terminal would act on (a pure function).

What the console prints comes from the model, the tools and the knowledge base, and a terminal acts on
control sequences in it: OSC 52 writes the clipboard, ``ESC [2J`` and ``ESC c`` clear the screen, cursor
moves and carriage returns or backspaces overwrite what was shown, bidi overrides reorder it. ``clean``
keeps the visible text, newlines and tabs, and removes everything else: every escape sequence whole
(CSI, OSC, DCS, APC, PM, SOS, the two-character ones), C1 controls (``\\x9b`` is a CSI too), the other C0
controls and DEL, and the bidi embeddings, overrides and isolates.

The text may be an answer still being written, cut off in the middle of a sequence (``…\\x1b[2``). A
sequence that is still open at the end is held back, not shown, so that the text cleaned later, when
it is complete, continues the text cleaned now: ``clean(a)`` is a prefix of ``clean(a + b)``. What is
held back is bounded: a sequence ends after ``MAX_SEQUENCE`` characters at the latest, and what follows is
text again (a terminal that still took it for the sequence's payload would show nothing of it).
"""

from __future__ import annotations

ESC = "\x1b"
BEL = "\x07"
MAX_SEQUENCE = 256
"""The most characters one escape sequence may swallow (an OSC 52 clipboard write of a short command fits)."""

_KEEP = frozenset("\n\t")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_STRINGS = frozenset("]P_^X")  # ESC ] OSC, ESC P DCS, ESC _ APC, ESC ^ PM, ESC X SOS
_C1_STRINGS = frozenset("\x90\x98\x9d\x9e\x9f")  # DCS, SOS, OSC, PM, APC
_C1_CSI = "\x9b"
_C1_ST = "\x9c"


def clean(text: str) -> str:
    """``text`` without anything a terminal would act on (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == ESC or "\x80" <= ch <= "\x9f":
            end = _sequence_end(text, i)
            if end is None:
                break  # still open at the end: held back until the text goes on
            i = end
            continue
        if ch in _KEEP or (ch >= " " and ch != "\x7f" and ch not in _BIDI):
            out.append(ch)
        i += 1
    return "".join(out)


def _sequence_end(text: str, start: int) -> int | None:
    """Where the sequence starting at ``start`` (an ESC or a C1 control) ends; None while it is open."""
    ch = text[start]
    if ch == _C1_CSI:
        return _csi_end(text, start, start + 1)
    if ch in _C1_STRINGS:
        return _string_end(text, start, start + 1)
    if ch != ESC:
        return start + 1  # any other C1 control, on its own
    if start + 1 >= len(text):
        return None
    kind = text[start + 1]
    if kind == "[":
        return _csi_end(text, start, start + 2)
    if kind in _STRINGS:
        return _string_end(text, start, start + 2)
    if " " <= kind <= "/":
        return _nf_end(text, start, start + 1)
    if "0" <= kind <= "~":
        return start + 2  # ESC c (reset), ESC 7 (save the cursor), ESC M, …
    return start + 1  # a lone ESC: only it goes; what follows is text (or a control, dropped on its own)


def _csi_end(text: str, start: int, body: int) -> int | None:
    """Parameters and intermediates (``0x20``–``0x3F``) up to a final byte (``0x40``–``0x7E``)."""
    j = body
    while j < len(text) and j - start < MAX_SEQUENCE:
        ch = text[j]
        if "@" <= ch <= "~":
            return j + 1
        if not " " <= ch <= "?":
            return j  # broken off: the sequence goes, the character is looked at on its own
        j += 1
    return j if j - start >= MAX_SEQUENCE else None


def _nf_end(text: str, start: int, body: int) -> int | None:
    """ESC, intermediates (``0x20``–``0x2F``), a final byte (``0x30``–``0x7E``): ``ESC ( B`` and the like."""
    j = body
    while j < len(text) and j - start < MAX_SEQUENCE:
        ch = text[j]
        if "0" <= ch <= "~":
            return j + 1
        if not " " <= ch <= "/":
            return j
        j += 1
    return j if j - start >= MAX_SEQUENCE else None


def _string_end(text: str, start: int, body: int) -> int | None:
    """A control string (OSC, DCS, …) up to BEL or the string terminator (``ESC \\`` or ``\\x9c``). An ESC
    followed by anything else ends the string and starts a sequence of its own."""
    j = body
    while j < len(text) and j - start < MAX_SEQUENCE:
        ch = text[j]
        if ch in (BEL, _C1_ST):
            return j + 1
        if ch == ESC:
            if j + 1 >= len(text):
                return None
            return j + 2 if text[j + 1] == "\\" else j
        j += 1
    return j if j - start >= MAX_SEQUENCE else None
