"""Checks against the ISO's real servers. Skipped unless pytest is given --run-internet."""

import pytest

from app.core.catalog import load_catalog, targets_for
from app.core.findings import Code
from app.core.runner import run_checks

pytestmark = pytest.mark.internet


def test_the_developer_site_speaks_tls12_with_a_valid_certificate():
    catalog = load_catalog(use_user_catalog=False)
    endpoints = [e for e in catalog.endpoints if e.id == "prod-developer"]
    report = run_checks(targets_for(endpoints)).targets[0]
    codes = {f.code for f in report.findings}
    assert Code.TLS12_OK in codes and Code.CERT_OK in codes, codes
