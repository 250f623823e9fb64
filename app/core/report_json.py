"""The report as JSON: the schema in ``app/resources/report.schema.json`` (documented in ``docs/report-format.md``)."""

from __future__ import annotations

import json
from typing import Any

from app import __version__
from app.core.checks.certificate import CertificateInfo
from app.core.findings import Finding, Verdict
from app.core.model import RunReport, TargetReport
from app.core.reference import SupportSummary, encode
from app.core.words import explain

SCHEMA = "tls-readiness-report/1"
PROGRAM = "TLS Readiness Checker"


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding with its words."""
    words = explain(finding)
    return {
        "code": finding.code.value,
        "status": finding.status.value,
        "check": finding.check.value,
        "title": words.title,
        "explanation": words.explanation,
        "action": words.action,
        "details": finding.details,
    }


def certificate_dict(cert: CertificateInfo) -> dict[str, Any]:
    """One certificate of a chain."""
    return {
        "subject": cert.subject,
        "issuer": cert.issuer,
        "alt_names": list(cert.alt_names),
        "not_before": cert.not_before.isoformat(),
        "not_after": cert.not_after.isoformat(),
        "key_type": cert.key_type,
        "key_bits": cert.key_bits,
        "signature_algorithm": cert.signature_algorithm,
        "serial": cert.serial,
        "sha256": cert.sha256,
        "pem": cert.pem,
    }


def target_dict(report: TargetReport) -> dict[str, Any]:
    """One endpoint's report."""
    t = report.target
    return {
        "id": t.id,
        "name": t.name,
        "url": t.address.url,
        "host": t.address.host,
        "port": t.address.port,
        "environment": t.environment,
        "application": t.application,
        "client_certificate_expected": t.client_certificate.value,
        "source": t.source,
        "verdict": report.verdict.value,
        "elapsed_ms": round(report.elapsed_ms, 1),
        "addresses": list(report.addresses),
        "connected_address": report.connected_address,
        "protocol": report.protocol,
        "cipher": report.cipher,
        "certificates": [certificate_dict(c) for c in report.chain],
        "trust": [{"store": r.store, "verdict": r.verdict.value, "detail": r.detail} for r in report.trust],
        "acceptable_client_cas": list(report.acceptable_client_cas),
        "clock_offset_s": None if report.clock_offset_s is None else round(report.clock_offset_s, 1),
        "findings": [finding_dict(f) for f in report.findings],
    }


def report_dict(report: RunReport, catalog_version: str = "") -> dict[str, Any]:
    """The whole run, ready for ``json.dumps``."""
    counts = {v.value: 0 for v in Verdict}
    for t in report.targets:
        counts[t.verdict.value] += 1
    cert = report.client_cert
    return {
        "schema": SCHEMA,
        "program": {"name": PROGRAM, "version": __version__},
        "catalog_version": catalog_version,
        "environment": report.environment,
        "started": report.started.isoformat(),
        "finished": report.finished.isoformat(),
        "elapsed_ms": round(report.elapsed_ms, 1),
        "cancelled": report.cancelled,
        "verdict": report.verdict.value,
        "reference": report.reference,
        "support_code": encode(SupportSummary.from_report(report)),
        "summary": {"targets": len(report.targets), **counts},
        "client_certificate": None
        if cert is None
        else {
            "file": cert.name,
            **({"alias": cert.alias} if cert.alias else {}),
            **({"store": cert.store_reference} if cert.in_store else {}),
            "subject": cert.info.subject,
            "issuer": cert.info.issuer,
            "not_after": cert.info.not_after.isoformat(),
            "sha256": cert.info.sha256,
        },
        "findings": [finding_dict(f) for f in report.findings],
        "computer": {"findings": [finding_dict(f) for f in report.computer]},
        "targets": [target_dict(t) for t in report.targets],
    }


def report_json(report: RunReport, catalog_version: str = "") -> str:
    """The report as indented JSON text."""
    return json.dumps(report_dict(report, catalog_version), indent=2, ensure_ascii=False)
