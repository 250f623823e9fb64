"""Paint the program's icon and write it as PNG, Windows .ico and macOS .icns into app/resources/icons/.

    .venv/bin/python installers/make_icons.py

The icon is drawn with Qt (a blue rounded square, a white padlock with a green tick), so no image editor or
extra package is needed. The written files are committed; run this again only to change the design.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "app" / "resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = ((b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512))


def paint(size: int) -> bytes:
    """The icon at ``size`` pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#1f5fa8"))
    p.drawRoundedRect(QRectF(2 * s, 2 * s, 60 * s, 60 * s), 12 * s, 12 * s)
    # The padlock: a shackle and a body.
    p.setPen(QPen(QColor("white"), 5 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
    p.setBrush(Qt.BrushStyle.NoBrush)
    shackle = QPainterPath(QPointF(22 * s, 30 * s))
    shackle.lineTo(QPointF(22 * s, 22 * s))
    shackle.arcTo(QRectF(22 * s, 12 * s, 20 * s, 20 * s), 180, -180)
    shackle.lineTo(QPointF(42 * s, 30 * s))
    p.drawPath(shackle)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("white"))
    p.drawRoundedRect(QRectF(15 * s, 28 * s, 34 * s, 26 * s), 4 * s, 4 * s)
    # The tick, in the verdict banner's green.
    p.setPen(QPen(QColor("#1e7b34"), 5 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
    tick = QPainterPath(QPointF(23 * s, 41 * s))
    tick.lineTo(QPointF(29.5 * s, 47 * s))
    tick.lineTo(QPointF(41 * s, 35 * s))
    p.drawPath(tick)
    p.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs say bytes; PySide6 takes str
    return bytes(data.data())


def ico(images: dict[int, bytes]) -> bytes:
    """A Windows .ico holding PNG images (supported since Windows Vista)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    entries = b""
    body = b""
    for size, png in sorted(images.items()):
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(body))
        body += png
    return header + entries + body


def icns(images: dict[bytes, bytes]) -> bytes:
    """A macOS .icns holding PNG images."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in images.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = sorted({*ICO_SIZES, *(size for _kind, size in ICNS_TYPES)})
    pngs = {size: paint(size) for size in sizes}
    (OUT / "tls-readiness.png").write_bytes(pngs[256])
    (OUT / "tls-readiness.ico").write_bytes(ico({size: pngs[size] for size in ICO_SIZES}))
    (OUT / "tls-readiness.icns").write_bytes(icns({kind: pngs[size] for kind, size in ICNS_TYPES}))
    for name in ("tls-readiness.png", "tls-readiness.ico", "tls-readiness.icns"):
        print(OUT / name, (OUT / name).stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
