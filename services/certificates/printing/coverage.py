"""Which characters the certificate fonts can print, so a name they cannot is refused with the
student and the character named, long before paper is fed.

Noto CJK prints every rare name character STACK.md tried (𬌗, 䶮 …) but not every CJK character
(U+2A6A5 𪚥 is in neither Noto CJK SC face). The templates set ``fallback: false`` and render in
PDF/A-2b, where Typst refuses the whole compile for a glyph it lacks ("the text could not be
displayed with font Noto Serif CJK SC", tried): one such name would fail a print chunk of 50.

The faces are the ones the templates name (templates/*.typ: ``serif`` and ``sans``, sans also in
bold), each read from its collection in the renderer's font directory. Printable means covered by
every one of them, because any field may be set in any of them; measured on Debian's
fonts-noto-cjk, the serif's 44,746 code points are all in the sans (which has 64 more), so the
set is the serif's. Read once per process (about 0.4 s; a worker process renders for hours).
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path
from typing import Final

from fontTools.ttLib import TTCollection

# Debian's fonts-noto-cjk: the only OFL fonts tried that print all 30 rare name characters
# (STACK.md). The renderer reads its fonts from here too (render.py), and from nowhere else.
NOTO_CJK_DIR: Final = Path("/usr/share/fonts/opentype/noto")
# (collection file, family inside it) for every face the templates use.
TEMPLATE_FACES: Final = (
    ("NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC"),
    ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
    ("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC"),
)


class FontMissing(RuntimeError):
    """A face the templates use is not installed: nothing could be printed at all."""


def _is_variation_selector(code_point: int) -> bool:
    # A selector picks a variant of the character before it; Typst prints the base character and
    # drops a selector the font has no variant for (tried with 葛 + U+E0100), so it needs no
    # glyph of its own. Other invisible characters (joiners, direction marks) are flagged: a name
    # holding one needs correcting, printable or not.
    return 0xFE00 <= code_point <= 0xFE0F or 0xE0100 <= code_point <= 0xE01EF


def face_code_points(collection: Path, family: str) -> frozenset[int]:
    """The code points one face of a font collection (.ttc) maps to a glyph."""
    if not collection.exists():
        raise FontMissing(f"certificate font {collection} is not installed (Debian: fonts-noto-cjk)")
    for font in TTCollection(str(collection), lazy=True).fonts:
        if font["name"].getDebugName(1) == family:
            return frozenset(font.getBestCmap())
    raise FontMissing(f"{collection} holds no face named {family!r}")


@functools.cache
def printable_code_points(font_dir: Path = NOTO_CJK_DIR) -> frozenset[int]:
    """The code points every template face covers."""
    faces = [face_code_points(font_dir / file, family) for file, family in TEMPLATE_FACES]
    return frozenset.intersection(*faces)


def unprintable_characters(text: str, font_dir: Path = NOTO_CJK_DIR) -> list[str]:
    """The characters of ``text`` the certificate fonts cannot print, each once, in order."""
    printable = printable_code_points(font_dir)
    found: dict[str, None] = {}  # ordered and distinct
    for character in text:
        code_point = ord(character)
        if code_point not in printable and not _is_variation_selector(code_point):
            found[character] = None
    return list(found)


def describe_character(character: str) -> str:
    """``U+2A6A5 𪚥``: the code point lets a registrar find a character their screen shows as a box;
    an invisible or control character is shown by its Unicode name instead of itself."""
    code = f"U+{ord(character):04X}"
    if unicodedata.category(character)[0] in "CZ":
        return f"{code} {unicodedata.name(character, 'unnamed')}"
    return f"{code} {character}"
