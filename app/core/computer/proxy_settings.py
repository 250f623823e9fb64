"""Which proxy this computer is set to use: environment variables, Windows' Internet settings (registry), macOS'
network settings (``scutil --proxy``), and automatic configuration (PAC scripts, WPAD), which this program cannot
follow. Reported for this computer; a detected proxy is used only when chosen (``--proxy``, Settings)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping

from app.core.computer.registry import Registry
from app.core.findings import Check, Code, Finding
from app.core.proxy import without_credentials

INTERNET_SETTINGS = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings"
_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")


def environment_proxy(environment: Mapping[str, str]) -> tuple[str, str] | None:
    """The proxy set in the environment for https (``https_proxy`` first), as (variable, address without
    credentials)."""
    for name in _VARIABLES:
        value = environment.get(name, "").strip()
        if value:
            return name, without_credentials(value)
    return None


def windows_proxy(registry: Registry) -> list[tuple[str, str]]:
    """Windows' Internet settings: [("proxy", address) | ("pac", url) | ("wpad", "")]."""
    found = []
    if registry.value(INTERNET_SETTINGS, "ProxyEnable") == 1:
        server = registry.value(INTERNET_SETTINGS, "ProxyServer")
        if isinstance(server, str) and server:
            # "host:port" or "http=host:port;https=host:port"
            parts = dict(p.split("=", 1) for p in server.split(";") if "=" in p)
            found.append(("proxy", without_credentials(parts.get("https", parts.get("http", server)))))
    pac = registry.value(INTERNET_SETTINGS, "AutoConfigURL")
    if isinstance(pac, str) and pac:
        found.append(("pac", pac))
    if registry.value(INTERNET_SETTINGS, "AutoDetect") == 1:
        found.append(("wpad", ""))
    return found


def macos_proxy(scutil_output: str) -> list[tuple[str, str]]:
    """macOS' settings from ``scutil --proxy``."""
    values = dict(re.findall(r"^\s*(\w+)\s*:\s*(.+?)\s*$", scutil_output, re.MULTILINE))
    found = []
    if values.get("HTTPSEnable") == "1" and values.get("HTTPSProxy"):
        found.append(("proxy", f"http://{values['HTTPSProxy']}:{values.get('HTTPSPort', '80')}"))
    if values.get("ProxyAutoConfigEnable") == "1" and values.get("ProxyAutoConfigURLString"):
        found.append(("pac", values["ProxyAutoConfigURLString"]))
    if values.get("ProxyAutoDiscoveryEnable") == "1":
        found.append(("wpad", ""))
    return found


def proxy_findings(
    registry: Registry | None,
    environment: Mapping[str, str] | None = None,
    scutil_output: str | None = None,
    used: str = "",
) -> list[Finding]:
    """PROXY_DETECTED for a set proxy, PROXY_AUTOMATIC for a PAC script or WPAD. ``used`` is the proxy this
    run goes through (shown without credentials), or empty for direct connections."""
    env = os.environ if environment is None else environment
    settings: list[tuple[str, str, str]] = []
    from_env = environment_proxy(env)
    if from_env:
        settings.append(("proxy", from_env[1], f"environment variable {from_env[0]}"))
    if registry is not None:
        settings += [(kind, value, "Windows Internet settings") for kind, value in windows_proxy(registry)]
    if scutil_output is None and sys.platform == "darwin":
        scutil_output = _scutil()
    if scutil_output:
        settings += [(kind, value, "macOS network settings") for kind, value in macos_proxy(scutil_output)]
    findings = []
    how = f"this check went through {used}" if used else "this check connected directly"
    for kind, value, source in settings:
        if kind == "proxy":
            params = {"proxy": value, "source": source, "how": how}
            findings.append(Finding(Code.PROXY_DETECTED, Check.PROXY, params, f"{source}: {value}"))
        else:
            where = value or "found on the network (WPAD)"
            params = {"script": where, "source": source, "how": how}
            findings.append(Finding(Code.PROXY_AUTOMATIC, Check.PROXY, params, f"{source}: {kind} {where}"))
    return findings


def _scutil() -> str:  # pragma: no cover - macOS only
    scutil = shutil.which("scutil")
    if not scutil:
        return ""
    try:
        return subprocess.run([scutil, "--proxy"], capture_output=True, text=True, timeout=5, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
