"""The ADS client's version: ISO's rule is that clients older than 6.1.0.0 must be upgraded."""

from __future__ import annotations

import re

MINIMUM_VERSION = (6, 1, 0, 0)
INSTALL_PAGE = "https://mpp.caiso.com/ads_install"
MARKET_NOTICE = (
    "http://www.caiso.com/Documents/"
    "MandatoryUrgentUpgradeISOAutomatedDispatchSystemClient6_1_0_0Available_Production.html"
)
_VERSION = re.compile(r"^\s*v?(\d{1,5})(?:\.(\d{1,5}))?(?:\.(\d{1,5}))?(?:\.(\d{1,5}))?\s*$", re.IGNORECASE)


class VersionError(ValueError):
    """A version that is not up to four numbers separated by dots; the message is one plain sentence."""


def parse_version(text: str) -> tuple[int, int, int, int]:
    """``"6.0.10.2"`` -> ``(6, 0, 10, 2)``; missing parts count as 0 (``"6.1"`` is 6.1.0.0)."""
    match = _VERSION.match(text)
    if not match:
        raise VersionError(
            f"'{text.strip()}' is not a version: type up to four numbers separated by dots, such as 6.1.0.0."
        )
    a, b, c, d = (int(part) if part else 0 for part in match.groups())
    return a, b, c, d


def format_version(version: tuple[int, int, int, int]) -> str:
    """``(6, 1, 0, 0)`` -> ``"6.1.0.0"``."""
    return ".".join(str(part) for part in version)


def is_outdated(version: tuple[int, int, int, int]) -> bool:
    """True for versions older than 6.1.0.0, compared number by number (6.0.10.2 < 6.1.0.0)."""
    return version < MINIMUM_VERSION
