"""Cleaning client-supplied strings before they are stored or logged."""

from __future__ import annotations

import unicodedata

_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_KEPT = frozenset({"\u200c", "\u200d"})  # zero-width (non-)joiners: parts of emoji and some scripts


def strip_control(text: str) -> str:
    """``text`` without control characters: NUL, newlines, tabs, escapes (``Cc``), invisible format
    characters such as bidirectional overrides (``Cf``, except the zero-width joiners) and lone
    surrogates. A file name or a person's name can then neither break the database (PostgreSQL refuses
    NUL) nor forge log lines, headers or the displayed name."""
    return "".join(ch for ch in text if ch in _KEPT or unicodedata.category(ch) not in _REMOVED_CATEGORIES)
