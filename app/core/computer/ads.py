"""The ADS client: found in Windows' list of installed programs, or typed in by the user; older than 6.1.0.0
must be upgraded."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.ads_client import INSTALL_PAGE, MARKET_NOTICE, MINIMUM_VERSION, format_version, is_outdated, parse_version
from app.core.computer.registry import Registry
from app.core.findings import Check, Code, Finding

UNINSTALL_KEYS = (
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
)


@dataclass(frozen=True)
class InstalledAds:
    """An ADS client found in the list of installed programs.

    Attributes:
        name: its display name.
        version: its version text as registered.
        key: where it was found.
    """

    name: str
    version: str
    key: str


def find_installed(registry: Registry) -> list[InstalledAds]:
    """Uninstall entries whose name mentions ADS or the Automated Dispatch System (64- and 32-bit, machine and
    user)."""
    found = []
    for root in UNINSTALL_KEYS:
        for sub in registry.subkeys(root):
            key = f"{root}\\{sub}"
            name = registry.value(key, "DisplayName")
            if not isinstance(name, str):
                continue
            words = name.replace("-", " ").split()
            if "Automated Dispatch" in name or "ADS" in words:
                version = registry.value(key, "DisplayVersion")
                found.append(InstalledAds(name, str(version) if version is not None else "", key))
    return found


def ads_findings(typed_version: str = "", registry: Registry | None = None) -> list[Finding]:
    """ADS_CLIENT_OUTDATED, ADS_CLIENT_OK or ADS_CLIENT_NOT_FOUND. A typed version wins over the registry."""
    candidates: list[tuple[str, str]] = []
    if typed_version.strip():
        candidates.append((typed_version.strip(), "typed in"))
    elif registry is not None:
        candidates += [(c.version, f"{c.name} ({c.key})") for c in find_installed(registry) if c.version]
    if not candidates:
        return [Finding(Code.ADS_CLIENT_NOT_FOUND, Check.ADS_CLIENT, {}, "no ADS client in the installed programs")]
    findings = []
    for text, where in candidates:
        try:
            version = parse_version(text)
        except ValueError:
            continue
        params = {
            "version": format_version(version),
            "minimum": format_version(MINIMUM_VERSION),
            "install_page": INSTALL_PAGE,
            "notice": MARKET_NOTICE,
        }
        code = Code.ADS_CLIENT_OUTDATED if is_outdated(version) else Code.ADS_CLIENT_OK
        findings.append(Finding(code, Check.ADS_CLIENT, params, f"version {text} from {where}"))
    return findings or [Finding(Code.ADS_CLIENT_NOT_FOUND, Check.ADS_CLIENT, {}, "no readable ADS client version")]
