#!/usr/bin/env python3
"""Draws manifest/teams/color.png (192x192) and outline.png (32x32, white on transparent).

Standard library only (zlib + struct): run it again after changing the drawing.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "manifest" / "teams"
ACCENT = (0x33, 0x55, 0xAA, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def png(width: int, height: int, pixel) -> bytes:
    """An RGBA PNG; ``pixel(x, y)`` gives each pixel's (r, g, b, a)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def thread_mark(x: float, y: float, size: float) -> bool:
    """Two speech-bubble rings joined by a thread: the threadwork mark, in unit coordinates."""
    u, v = x / size, y / size
    ring1 = 0.16 <= ((u - 0.36) ** 2 + (v - 0.40) ** 2) ** 0.5 <= 0.24
    ring2 = 0.10 <= ((u - 0.66) ** 2 + (v - 0.64) ** 2) ** 0.5 <= 0.17
    thread = abs((v - 0.40) - (u - 0.36) * (0.24 / 0.30)) < 0.035 and 0.50 <= u <= 0.56
    return ring1 or ring2 or thread


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "color.png").write_bytes(png(192, 192, lambda x, y: WHITE if thread_mark(x + 0.5, y + 0.5, 192) else ACCENT))
    (OUT / "outline.png").write_bytes(png(32, 32, lambda x, y: WHITE if thread_mark(x + 0.5, y + 0.5, 32) else CLEAR))
    print(f"wrote {OUT / 'color.png'} and {OUT / 'outline.png'}")


if __name__ == "__main__":
    main()
