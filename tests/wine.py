"""Where the tests run, and the reasons for what cannot be tested where.

The Windows lane (scripts/test-windows) runs the whole suite under Wine with the official Windows CPython. A
test that cannot mean anything there is skipped with one of these reasons, never silently (the README lists
them under "Known limits of Wine").
"""

from __future__ import annotations

import os

import pytest

from app.core.system import WINE_TRUSTS_UNKNOWN_ROOTS, wine_version

UNDER_WINE = wine_version() is not None
# Set by scripts/test-windows: the tests may write into the (throwaway) prefix's registry and certificate stores.
IN_WINDOWS_LANE = UNDER_WINE and os.environ.get("TLS_READINESS_WINDOWS_LANE") == "1"

wine_trusts_unknown_roots = pytest.mark.skipif(UNDER_WINE, reason=WINE_TRUSTS_UNKNOWN_ROOTS)

__all__ = ["IN_WINDOWS_LANE", "UNDER_WINE", "WINE_TRUSTS_UNKNOWN_ROOTS", "wine_trusts_unknown_roots"]
