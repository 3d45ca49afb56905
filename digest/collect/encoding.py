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


def decode_text(data: bytes) -> str:
    """A text or HTML file's characters: BOM, then UTF-8, then the best statistical guess."""
    codec, skip = bom_codec(data)
    if codec is not None:
        return data[skip:].decode(codec, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(data).best()
        if best is None:
            raise SourceError("cannot tell the text's encoding; save it as UTF-8") from None
        encoding = SUPERSETS.get(best.encoding.replace("_", "-").lower(), best.encoding)
        return data.decode(encoding, "replace")
