#!/usr/bin/env python3
"""Makes the CJK fonts that Meridian ships, once, from Debian's fonts-noto-cjk.

The full NotoSansCJK-Regular.ttc is 19.5 MB. Each language's face is cut down to its
national character set (JIS X 0208 with the Windows-31J extensions such as 髙 and 﨑
for Japanese, GB 2312 for Simplified Chinese,
Big5 level 1 for Traditional Chinese, KS X 1001 plus every modern Hangul syllable for
Korean) and the shared punctuation, full-width forms, Latin-1 and currency signs.
A character outside one face is taken from the next CJK face that has it (the PDF
renderer falls back across faces), so the union covers names in any of the four
languages. The output is committed; this script only documents how it was made.

    apt-get install -y fonts-noto-cjk fonttools
    /usr/bin/python3 fonts/subset-cjk.py
"""
import os
import subprocess
import tempfile

TTC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
HERE = os.path.dirname(os.path.abspath(__file__))


def two_byte(codec, high, low):
    chars = set()
    for a in high:
        for b in low:
            try:
                s = bytes([a, b]).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(s) == 1:
                chars.add(ord(s))
    return chars


COMMON = (
    set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    | set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0))
    | {0x20A9, 0x20AC, 0x20B9, 0x2116, 0x2122}
)
BIG5_LOW = list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
FACES = [  # (index in the .ttc, file tag, repertoire)
    (0, "jp", two_byte("euc_jp", range(0xA1, 0xFF), range(0xA1, 0xFF))
     | two_byte("cp932", range(0x81, 0xFD), range(0x40, 0xFD))),
    (1, "kr", two_byte("euc_kr", range(0xA1, 0xFF), range(0xA1, 0xFF)) | set(range(0xAC00, 0xD7A4))),
    (2, "sc", two_byte("gb2312", range(0xA1, 0xFF), range(0xA1, 0xFF))),
    (3, "tc", two_byte("big5", range(0xA1, 0xC7), BIG5_LOW)),
]

for index, tag, chars in FACES:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join("U+%04X" % c for c in sorted(chars | COMMON)))
    out = os.path.join(HERE, f"NotoSansCJK{tag}-Regular.subset.otf")
    subprocess.run(
        ["pyftsubset", TTC, f"--font-number={index}", f"--unicodes-file={f.name}",
         f"--output-file={out}", "--layout-features=*", "--notdef-outline", "--no-hinting"],
        check=True,
    )
    os.unlink(f.name)
    print(out, os.path.getsize(out))
