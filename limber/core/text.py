"""Text people type, as others will read it."""

from __future__ import annotations

import unicodedata

# Spaces, control characters and the invisible format characters (zero-width spaces, joiners,
# direction marks, byte-order marks): none shows on a page, a handout or an export.
_INVISIBLE = ("Zs", "Zl", "Zp", "Cc", "Cf")


def visible(text: str | None) -> str:
    """``text`` without the invisible characters at either end; "" when nothing shows.

    A reason or a note that is only a zero-width space is no reason: `strip()` alone keeps it.
    """
    chars = text or ""
    start, end = 0, len(chars)
    while start < end and unicodedata.category(chars[start]) in _INVISIBLE:
        start += 1
    while end > start and unicodedata.category(chars[end - 1]) in _INVISIBLE:
        end -= 1
    return chars[start:end]
