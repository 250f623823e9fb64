"""What the installers are made of: the icon files, the system libraries left out, the menu entry.

The build itself (PyInstaller, the .deb, makensis, actionlint) runs in installers/check, which scripts/test calls.
"""

from __future__ import annotations

import struct

import pytest

from app.core.resources import resource_path
from installers.linux.package import DESKTOP_ENTRY
from installers.linux.system_libraries import DEB_DEPENDS, SYSTEM_LIBRARIES
from installers.make_icons import ICNS_TYPES, ICO_SIZES

PNG = b"\x89PNG\r\n\x1a\n"


def test_windows_icon_holds_every_size_as_png():
    data = resource_path("icons/tls-readiness.ico").read_bytes()
    _reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (kind, count) == (1, len(ICO_SIZES))
    for i, size in enumerate(ICO_SIZES):
        width, height, _c, _r, _p, _b, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        assert width == height == (0 if size == 256 else size)
        assert data[offset : offset + 8] == PNG
        assert offset + length <= len(data)


def test_macos_icon_is_well_formed():
    data = resource_path("icons/tls-readiness.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    kinds, at = [], 8
    while at < len(data):
        kind, length = data[at : at + 4], struct.unpack_from(">I", data, at + 4)[0]
        assert data[at + 8 : at + 16] == PNG
        kinds.append(kind)
        at += length
    assert at == len(data)
    assert kinds == [kind for kind, _size in ICNS_TYPES]


@pytest.mark.parametrize(
    ("name", "left_to_system"),
    [
        ("libX11.so.6", True),
        ("libxcb-cursor.so.0", True),
        ("libfontconfig.so.1", True),
        ("libstdc++.so.6", True),
        ("libglib-2.0.so.0", True),
        ("libssl.so.3", False),  # Python's own OpenSSL stays: the verdicts are tested with it
        ("libcrypto.so.3", False),
        ("libpython3.11.so.1.0", False),
        ("libQt6Gui.so.6", False),
        ("libicudata.so.73", False),
        ("libzstd.so.1", True),
        ("libz.so.1", True),
        ("libzip.so.4", False),
    ],
)
def test_system_libraries(name, left_to_system):
    assert bool(SYSTEM_LIBRARIES.match(name)) is left_to_system


def test_deb_depends_on_the_libraries_left_out():
    packages = " ".join(DEB_DEPENDS)
    for package in ("libx11-6", "libxcb-cursor0", "libfontconfig1", "libstdc++6", "libglib2.0-0", "libgl1", "libegl1"):
        assert package in packages


def test_desktop_entry_starts_the_window_and_offers_check_now():
    entry = DESKTOP_ENTRY.format(exec="tls-readiness-gui", icon="tls-readiness-checker")
    lines = entry.splitlines()
    assert lines[0] == "[Desktop Entry]"
    assert "Exec=tls-readiness-gui %U" in lines
    assert "Exec=tls-readiness-gui --run" in lines
    assert all("=" in line or line.startswith("[") or not line for line in lines)
