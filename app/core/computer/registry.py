"""Reading the Windows registry through a small snapshot interface, so that what the values *mean* is tested
on any system with recorded snapshots, and the ``winreg`` layer stays thin.

Paths are written as in regedit: ``HKLM\\SOFTWARE\\Microsoft\\...``; 32-bit views are their own paths
(``HKLM\\SOFTWARE\\WOW6432Node\\...``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

RegistryValue = int | str


class Registry(Protocol):
    """What the interpretations need of a registry."""

    def value(self, path: str, name: str) -> RegistryValue | None:
        """A value, or None when the key or the value does not exist."""
        ...

    def subkeys(self, path: str) -> list[str]:
        """The names of a key's subkeys (empty when it does not exist)."""
        ...


class SnapshotRegistry:
    """A registry recorded as JSON: ``{"keys": {"HKLM\\\\PATH": {"Value": 1, ...}, ...}}`` (case-insensitive)."""

    def __init__(self, keys: Mapping[str, Mapping[str, RegistryValue]], description: str = "") -> None:
        self.description = description
        self._keys = {path.lower(): {n.lower(): v for n, v in values.items()} for path, values in keys.items()}

    @classmethod
    def load(cls, path: Path) -> SnapshotRegistry:
        """Read a recorded snapshot file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["keys"], data.get("description", ""))

    def value(self, path: str, name: str) -> RegistryValue | None:
        """A value, or None."""
        return self._keys.get(path.lower(), {}).get(name.lower())

    def subkeys(self, path: str) -> list[str]:
        """Subkey names (one level below ``path``)."""
        prefix = path.lower().rstrip("\\") + "\\"
        names = {key[len(prefix) :].split("\\", 1)[0] for key in self._keys if key.startswith(prefix)}
        return sorted(n for n in names if n)


if sys.platform == "win32":  # pragma: no cover - Windows only
    import winreg

    _HIVES = {"HKLM": winreg.HKEY_LOCAL_MACHINE, "HKCU": winreg.HKEY_CURRENT_USER}

    class LiveRegistry:
        """This computer's registry (Windows); always the 64-bit view, 32-bit keys by their WOW6432Node path."""

        def _open(self, path: str) -> winreg.HKEYType:
            hive, _, rest = path.partition("\\")
            return winreg.OpenKey(_HIVES[hive.upper()], rest, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY)

        def value(self, path: str, name: str) -> RegistryValue | None:
            """A value, or None."""
            try:
                with self._open(path) as key:
                    data, _kind = winreg.QueryValueEx(key, name)
            except (OSError, KeyError):
                return None
            return data if isinstance(data, int | str) else str(data)

        def subkeys(self, path: str) -> list[str]:
            """Subkey names."""
            try:
                with self._open(path) as key:
                    return [winreg.EnumKey(key, i) for i in range(winreg.QueryInfoKey(key)[0])]
            except (OSError, KeyError):
                return []


def this_computers_registry() -> Registry | None:
    """The live registry on Windows; None elsewhere."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return LiveRegistry()
    return None
