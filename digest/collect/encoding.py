"""Reading bytes as text the way browsers do: BOMs, declared encodings and their real-world supersets.

Feeds declare ``gb2312`` but hold GB18030 characters, declare ``iso-8859-1`` but hold Windows-1252 curly
quotes, declare ``euc-kr`` but hold CP949 syllables. The WHATWG Encoding Standard maps those labels to the
superset; we do the same before handing a document to a parser.
"""

from __future__ import annotations

import re

import charset_normalizer

from digest.errors import SourceError

BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# declared label -> the superset to decode with (WHATWG Encoding Standard, "labels")
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "gb_2312-80": "gb18030",
    "chinese": "gb18030",
    "iso-8859-1": "windows-1252",
    "iso8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "tis-620": "cp874",
    "iso-8859-11": "cp874",
}
_DECL = re.compile(rb"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._:-]+)([\"'])")


def bom_codec(data: bytes) -> tuple[str | None, int]:
    for bom, codec in BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None, 0


def text_head(data: bytes, size: int = 4096) -> str:
    """The first bytes as text, good enough to sniff the format (BOM and UTF-16/32 without BOM handled)."""
    codec, skip = bom_codec(data)
    head = data[skip : skip + size]
    if codec is None:
        if head[:4] in (b"<\x00\x00\x00", b"{\x00\x00\x00"):
            codec = "utf-32-le"
        elif head[:4] in (b"\x00\x00\x00<", b"\x00\x00\x00{"):
            codec = "utf-32-be"
        elif head[:2] in (b"<\x00", b"{\x00"):
            codec = "utf-16-le"
        elif head[:2] in (b"\x00<", b"\x00{"):
            codec = "utf-16-be"
    return head.decode(codec or "latin-1", "ignore")


def normalise_declared_encoding(data: bytes) -> bytes:
    """An XML document whose declared encoding is a subset label, re-encoded as UTF-8 via the superset.

    A BOM wins over the declaration (XML 1.0, appendix F); documents in any other encoding pass unchanged.
    """
    codec, skip = bom_codec(data)
    if codec is not None:
        if codec == "utf-8":
            return data
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError:
            return data
        return _DECL.sub(rb"\g<1>utf-8\g<3>", text.encode("utf-8"), count=1)
    match = _DECL.match(data[:512])
    if not match:
        return data
    superset = SUPERSETS.get(match.group(2).decode("ascii").lower())
    if superset is None:
        return data
    try:
        text = data.decode(superset)
    except UnicodeDecodeError:
        return data  # lying declaration: let the parser's own detection try
    return _DECL.sub(rb"\g<1>utf-8\g<3>", text.encode("utf-8"), count=1)


_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
GUESS_BYTES = 500_000  # charset-normalizer reads this much at most: enough for a guess, bounded on a huge file


def guess_encoding(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's guess for bytes that declare no encoding: (the codec to decode with, which is the
    WHATWG superset of the guess; the guess), or None."""
    best = charset_normalizer.from_bytes(data[:GUESS_BYTES]).best()
    if best is None:
        return None
    return SUPERSETS.get(best.encoding.replace("_", "-").lower(), best.encoding), best.encoding


def label(codec: str) -> str:
    """A codec as people name it: ``cp1251`` -> ``windows-1251``, ``koi8_r`` -> ``KOI8-R``."""
    name = codec.replace("_", "-").lower()
    if re.fullmatch(r"cp125\d", name):
        return f"windows-{name[2:]}"
    if name.startswith(("koi8", "euc", "iso", "gb", "big5", "utf")):
        return name.upper()
    return "Shift_JIS" if name in ("shift-jis", "cp932") else name


def guessed_note(codec: str) -> str:
    return f"no encoding declared and not UTF-8: read as {label(codec)} (charset-normalizer's guess)"


def undeclared_to_utf8(data: bytes) -> tuple[bytes, str | None]:
    """An XML document with no BOM, no declared encoding and bytes that are not UTF-8 (a KOI8-R, Shift-JIS or
    windows-1251 feed saved as is), decoded by charset-normalizer's guess and re-encoded as UTF-8.

    Returns (the bytes to parse, a note naming the guess or None). Anything else passes unchanged.
    """
    if bom_codec(data)[0] is not None or _DECL.match(data[:512]):
        return data, None
    try:
        data.decode("utf-8")
        return data, None
    except UnicodeDecodeError:
        pass
    guessed = guess_encoding(data)
    if guessed is None:
        return data, None
    try:
        text = data.decode(guessed[0], "replace")
    except LookupError:
        return data, None
    return text.encode("utf-8"), guessed_note(guessed[1])


def decode_text(data: bytes) -> tuple[str, str | None]:
    """A text or HTML file's characters: BOM, then UTF-8 (bytes that decode as UTF-8 are UTF-8, whatever a page
    declares), then an HTML ``<meta charset>``, then charset-normalizer's guess. Returns (the text, a note naming
    the guess when one was needed)."""
    codec, skip = bom_codec(data)
    if codec is not None:
        return data[skip:].decode(codec, "replace"), None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    meta = _META_CHARSET.search(data[:4096])
    if meta:
        declared = meta.group(1).decode("ascii").lower()
        try:
            return data.decode(SUPERSETS.get(declared, declared), "replace"), None
        except LookupError:
            pass  # an unknown label: read it as if none were declared
    guessed = guess_encoding(data)
    if guessed is None:
        raise SourceError("cannot tell the text's encoding; save it as UTF-8")
    return data.decode(guessed[0], "replace"), guessed_note(guessed[1])
