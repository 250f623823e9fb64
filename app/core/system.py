"""Facts about the operating system this program runs on that change what a check can show."""

from __future__ import annotations

import ctypes
import functools
import sys


@functools.cache
def wine_version() -> str | None:
    """Wine's version when this Windows program runs under Wine (on Linux or macOS), else None.

    Wine's chain verification accepts a chain that ends at an unknown root, so there "this computer's own
    store" trusts every authority: the checks still run, but an untrusted certificate cannot show as such through
    that store. The bundle records it; the self-test says which of its scenarios it cannot judge there.
    """
    if sys.platform == "win32":
        return _wine_get_version()
    return None


if sys.platform == "win32":  # pragma: no cover - Windows only

    def _wine_get_version() -> str | None:
        try:
            getter = ctypes.WinDLL("ntdll").wine_get_version
        except (OSError, AttributeError):  # real Windows: ntdll has no such function
            return None
        getter.restype = ctypes.c_char_p
        value = getter()
        return value.decode("ascii", "replace") if isinstance(value, bytes) else None


WINE_TRUSTS_UNKNOWN_ROOTS = (
    "Wine's chain verification accepts a chain that ends at an unknown root, so 'untrusted' cannot be shown there"
)
