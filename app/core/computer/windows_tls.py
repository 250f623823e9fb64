"""What Windows' own TLS settings allow: the settings that decide what the Windows TLS stack (SChannel) offers,
and so what the ADS client, browsers and .NET programs can use.

Read through :mod:`app.core.computer.registry`. The meaning of each value follows Microsoft's documentation:
SCHANNEL ``Protocols\\TLS 1.2\\Client`` (``Enabled``, ``DisabledByDefault``); WinHTTP ``DefaultSecureProtocols``
(``0x800`` = TLS 1.2; Windows 7 and Server 2008 R2 need update KB3140245 for it); Internet Options
``SecureProtocols`` (the same bits, possibly set by Group Policy); .NET Framework 4 ``SchUseStrongCrypto`` and
``SystemDefaultTlsVersions``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.computer.registry import Registry, RegistryValue
from app.core.findings import Check, Code, Finding

TLS12 = 0x800
CURRENT_VERSION = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
SCHANNEL_TLS12_CLIENT = (
    "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client"
)
WINHTTP = (
    "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\WinHttp",
)
INTERNET_SETTINGS = (  # in the order Windows applies them: policies first
    ("HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings", True),
    ("HKCU\\Software\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings", True),
    ("HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings", False),
    ("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings", False),
)
DOTNET = (
    "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
    "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
)
DOTNET4_INSTALLED = "HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full"
BY_POLICY = "your company's Group Policy, so a change made on this computer would be undone"
BY_SETTINGS = "this computer's own settings"


@dataclass(frozen=True)
class WindowsVersion:
    """Which Windows: its name and its version numbers (major, minor, build)."""

    name: str
    major: int
    minor: int
    build: int

    @property
    def before_windows_8(self) -> bool:
        """Windows 7 and Server 2008 R2 (6.1) and older: TLS 1.2 is off by default in several places."""
        return (self.major, self.minor) < (6, 2)


def _int(value: RegistryValue | None) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def windows_version(registry: Registry) -> WindowsVersion | None:
    """The Windows version recorded in the registry, or None when this is not Windows."""
    name = registry.value(CURRENT_VERSION, "ProductName")
    build = _int(registry.value(CURRENT_VERSION, "CurrentBuildNumber"))
    major = _int(registry.value(CURRENT_VERSION, "CurrentMajorVersionNumber"))
    minor = _int(registry.value(CURRENT_VERSION, "CurrentMinorVersionNumber"))
    if major is None:
        text = registry.value(CURRENT_VERSION, "CurrentVersion")
        if isinstance(text, str) and "." in text:
            first, _, second = text.partition(".")
            major, minor = _int(first), _int(second)
    if name is None and major is None:
        return None
    return WindowsVersion(str(name or "Windows"), major or 0, minor or 0, build or 0)


def windows_findings(registry: Registry | None) -> list[Finding]:
    """Each problem with Windows' TLS 1.2 settings as a finding, or WINDOWS_TLS_OK; nothing when not Windows."""
    if registry is None:
        return []
    version = windows_version(registry)
    if version is None:
        return []
    base = {"windows": version.name}
    if (version.major, version.minor) < (6, 1):
        return [Finding(Code.WINDOWS_TOO_OLD, Check.WINDOWS, base, f"{version.name} {version.major}.{version.minor}")]
    findings = []
    enabled = _int(registry.value(SCHANNEL_TLS12_CLIENT, "Enabled"))
    disabled_by_default = _int(registry.value(SCHANNEL_TLS12_CLIENT, "DisabledByDefault"))
    schannel = f"SCHANNEL TLS 1.2 Client: Enabled={enabled}, DisabledByDefault={disabled_by_default}"
    if (
        enabled == 0
        or disabled_by_default == 1
        or (enabled is None and disabled_by_default is None and version.before_windows_8)
    ):
        findings.append(Finding(Code.WINDOWS_TLS12_DISABLED, Check.WINDOWS, base, schannel))
    winhttp = [(key, _int(registry.value(key, "DefaultSecureProtocols"))) for key in WINHTTP]
    winhttp_off = [
        key for key, v in winhttp if (v is not None and not v & TLS12) or (v is None and version.before_windows_8)
    ]
    if winhttp_off:
        detail = "; ".join(f"{key}: DefaultSecureProtocols={v if v is None else hex(v)}" for key, v in winhttp)
        if version.before_windows_8:
            detail += "; Windows 7 / Server 2008 R2 need update KB3140245 before this value takes effect"
        findings.append(Finding(Code.WINHTTP_TLS12_OFF, Check.WINDOWS, base, detail))
    for key, by_policy in INTERNET_SETTINGS:
        protocols = _int(registry.value(key, "SecureProtocols"))
        if protocols is None:
            continue
        if not protocols & TLS12:
            params = {**base, "set_by": BY_POLICY if by_policy else BY_SETTINGS}
            findings.append(
                Finding(
                    Code.INTERNET_OPTIONS_TLS12_OFF, Check.WINDOWS, params, f"{key}: SecureProtocols={hex(protocols)}"
                )
            )
        break  # the first value found is the one that applies
    if registry.value(DOTNET4_INSTALLED, "Release") is not None:
        weak = [
            key
            for key in DOTNET
            if not (
                _int(registry.value(key, "SchUseStrongCrypto")) == 1
                or _int(registry.value(key, "SystemDefaultTlsVersions")) == 1
            )
        ]
        if weak:
            findings.append(
                Finding(
                    Code.DOTNET_TLS12_NOT_DEFAULT,
                    Check.WINDOWS,
                    base,
                    "SchUseStrongCrypto and SystemDefaultTlsVersions not 1 in: " + "; ".join(weak),
                )
            )
    if not findings:
        findings.append(
            Finding(
                Code.WINDOWS_TLS_OK,
                Check.WINDOWS,
                base,
                f"{version.name} {version.major}.{version.minor}.{version.build}; {schannel}",
            )
        )
    return findings
