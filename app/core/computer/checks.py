"""The checks of this computer as a whole, made once per run beside the servers' checks."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.computer.ads import ads_findings
from app.core.computer.proxy_settings import proxy_findings
from app.core.computer.registry import Registry, this_computers_registry
from app.core.computer.windows_tls import windows_findings
from app.core.findings import Finding

THIS_COMPUTER = "this-computer"  # the id under which the window and the reports show these findings


@dataclass(frozen=True)
class ComputerSettings:
    """What to look at on this computer.

    Attributes:
        ads_version: the ADS client version the user typed in ("" to look for it).
        registry: the Windows registry to read (None: this computer's own on Windows, none elsewhere).
        os_stack: also make a TLS 1.2 request to each address through the system's curl.
        java: also make a TLS 1.2 handshake to each address through the installed Java.
    """

    ads_version: str = ""
    registry: Registry | None = None
    os_stack: bool = False
    java: bool = False


def computer_findings(settings: ComputerSettings, proxy_used: str = "") -> list[Finding]:
    """Every finding about this computer as a whole; ``proxy_used`` is the proxy the run goes through
    (shown without credentials), or empty for direct connections."""
    registry = settings.registry if settings.registry is not None else this_computers_registry()
    return [
        *ads_findings(settings.ads_version, registry),
        *windows_findings(registry),
        *proxy_findings(registry, used=proxy_used),
    ]
