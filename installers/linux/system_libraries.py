"""The Linux desktop libraries that the frozen program takes from the system instead of carrying them.

PyInstaller would copy these from the build machine. Copies of the font, X11 and C++ libraries are known to break
on newer systems (a fontconfig built for other configuration files, a libstdc++ older than the graphics driver's),
and together they are 12 MB. The .deb declares the packages below instead (``DEB_DEPENDS``), and the .tar.gz's
README names the same packages. Python's own OpenSSL stays inside: the verdicts are tested with it.
"""

from __future__ import annotations

import re

# Shared-library name prefixes (as PyInstaller names them in the folder) left to the system.
SYSTEM_LIBRARIES = re.compile(
    r"^(libX11|libX11-xcb|libXau|libXdmcp|libxcb[\w-]*|libxkbcommon[\w-]*|libfontconfig|libfreetype|libpng16|"
    r"libbrotli\w*|libexpat|libglib-2\.0|libgthread-2\.0|libpcre2-8|libdbus-1|libsystemd|libgcrypt|libgpg-error|"
    r"liblz4|libzstd|libcap|libstdc\+\+|libgcc_s|libz|libbsd|libmd)\.so[.\d]*$"
)

# What the .deb depends on: the direct needs of Qt, Python and OpenGL (Qt links libGL and libEGL).
# "a | b" lists the Ubuntu 24.04 (t64) name first, then the Debian 12 one.
DEB_DEPENDS = (
    "libc6 (>= 2.31)",
    "libstdc++6",
    "libgcc-s1",
    "zlib1g",
    "libzstd1",
    "libglib2.0-0t64 | libglib2.0-0",
    "libdbus-1-3",
    "libfontconfig1",
    "libfreetype6",
    "libgl1",
    "libegl1",
    "libx11-6",
    "libx11-xcb1",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-shm0",
    "libxcb-sync1",
    "libxcb-util1",
    "libxcb-xfixes0",
    "libxcb-xkb1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "fonts-dejavu-core | fonts-liberation2 | fonts-noto-core",
)
