"""The live registry layer against a real Windows registry: Wine's, in the Windows lane's own prefix.

Each recorded snapshot in tests/registry/ is written into the registry with ``winreg``, then read back through
:class:`LiveRegistry`: the findings must be those the snapshot reader gives on the file. ADS uninstall entries
under HKCU and HKLM (its 32-bit WOW6432Node view too) must be found, and other programs ignored. Values are
put back as they were.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.computer.registry import RegistryValue, SnapshotRegistry
from tests.wine import IN_WINDOWS_LANE

pytestmark = pytest.mark.skipif(
    not IN_WINDOWS_LANE,
    reason="writes into the Windows registry: runs only in the Windows lane's own Wine prefix (scripts/test-windows)",
)

SNAPSHOTS = sorted((Path(__file__).parent / "registry").glob("*.json"))
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"


class RecordingRegistry(SnapshotRegistry):
    """A snapshot that notes every value the readers ask for (so the live test clears exactly those)."""

    def __init__(self, keys: dict[str, dict[str, RegistryValue]]) -> None:
        super().__init__(keys)
        self.asked: set[tuple[str, str]] = set()

    def value(self, path: str, name: str) -> RegistryValue | None:
        self.asked.add((path, name))
        return super().value(path, name)


def _readers(registry: object) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    from app.core.computer.proxy_settings import windows_proxy
    from app.core.computer.windows_tls import windows_findings

    findings = sorted(
        (f.code.name, json.dumps(f.params, sort_keys=True), f.details)
        for f in windows_findings(registry)  # type: ignore[arg-type]
    )
    return findings, windows_proxy(registry)  # type: ignore[arg-type]


def _values_read() -> set[tuple[str, str]]:
    asked: set[tuple[str, str]] = set()
    for snapshot in SNAPSHOTS:
        recording = RecordingRegistry(json.loads(snapshot.read_text(encoding="utf-8"))["keys"])
        _readers(recording)
        asked |= recording.asked
    return asked


# The standard library's winreg exists on Windows only; loaded by name so that type checks on Linux pass.
winreg: Any = importlib.import_module("winreg") if sys.platform == "win32" else None


HIVES = {"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER"}


def _access() -> int:
    return int(winreg.KEY_ALL_ACCESS | winreg.KEY_WOW64_64KEY)


def _split(path: str) -> tuple[int, str]:
    hive, _, rest = path.partition("\\")
    return int(getattr(winreg, HIVES[hive])), rest


def _get(path: str, name: str) -> tuple[object, int] | None:
    try:
        with winreg.OpenKey(*_split(path), 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            return winreg.QueryValueEx(key, name)  # type: ignore[no-any-return]
    except OSError:
        return None


def _put(path: str, name: str, value: object, kind: int | None = None) -> None:
    with winreg.CreateKeyEx(*_split(path), 0, _access()) as key:
        if kind is None:
            kind = winreg.REG_DWORD if isinstance(value, int) else winreg.REG_SZ
        winreg.SetValueEx(key, name, 0, kind, value)


def _delete(path: str, name: str) -> None:
    try:
        with winreg.OpenKey(*_split(path), 0, _access()) as key:
            winreg.DeleteValue(key, name)
    except OSError:
        pass


def _delete_key(path: str) -> None:
    with contextlib.suppress(OSError):
        winreg.DeleteKeyEx(*_split(path), _access(), 0)


@pytest.fixture
def registry_values_restored() -> Iterator[set[tuple[str, str]]]:
    """The values the readers look at, cleared for the test and put back afterwards."""
    read = _values_read()
    saved = {(path, name): _get(path, name) for path, name in read}
    yield read
    for (path, name), old in saved.items():
        if old is None:
            _delete(path, name)
        else:
            _put(path, name, old[0], old[1])


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=[s.stem for s in SNAPSHOTS])
def test_the_live_registry_reads_what_the_snapshot_says(snapshot, registry_values_restored):
    from app.core.computer.registry import this_computers_registry

    data = json.loads(snapshot.read_text(encoding="utf-8"))["keys"]
    for path, name in registry_values_restored:
        _delete(path, name)
    for path, values in data.items():
        if f"\\{UNINSTALL}\\" in path:
            continue  # the ADS entries have their own test
        for name, value in values.items():
            _put(path, name, value)
    assert _readers(this_computers_registry()) == _readers(SnapshotRegistry(data))


ADS_ENTRIES = {
    f"HKCU\\Software\\{UNINSTALL}\\ADS-Client": ("ADS Client", "6.0.0.5"),
    f"HKLM\\SOFTWARE\\WOW6432Node\\{UNINSTALL}\\{{6B1D2C3E-0ADS-4A1B-9C2D-000000006100}}": (
        "Automated Dispatch System",
        "6.1.2.0",
    ),
    f"HKLM\\SOFTWARE\\{UNINSTALL}\\AdsenseHelper": ("Google Adsense Helper", "1.0"),
    f"HKCU\\Software\\{UNINSTALL}\\Readiness": ("TLS Readiness Checker", "0.1.0"),
}


def test_ads_uninstall_entries_are_found_under_hkcu_and_hklm_32_bit():
    from app.core.computer.ads import ads_findings, find_installed
    from app.core.computer.registry import this_computers_registry
    from app.core.findings import Code

    live = this_computers_registry()
    assert live is not None

    try:
        for key, (name, version) in ADS_ENTRIES.items():
            _put(key, "DisplayName", name)
            _put(key, "DisplayVersion", version)
        found = {
            (ads.name, ads.version, ads.key.split("\\")[0], "WOW6432Node" in ads.key) for ads in find_installed(live)
        }
        assert ("ADS Client", "6.0.0.5", "HKCU", False) in found
        assert ("Automated Dispatch System", "6.1.2.0", "HKLM", True) in found
        assert not any("Adsense" in name or "Readiness" in name for name, *_ in found)
        codes = sorted(f.code for f in ads_findings("", live))
        assert codes == sorted([Code.ADS_CLIENT_OUTDATED, Code.ADS_CLIENT_OK])
    finally:
        for key in ADS_ENTRIES:
            _delete_key(key)
