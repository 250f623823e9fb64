"""Fuzzing with hypothesis: nothing a user can hand us raises anything but a plain-sentence InputError.

Targets: address (URL and host) parsing, catalog loading, certificate files (random, truncated and mutated DER,
PEM and PKCS#12, as client certificate and as extra trust), and support-code decoding.

CI runs a short pass (``TLS_READINESS_FUZZ_EXAMPLES``, default 100 examples per test). The long run, with its
figures in docs/PERFORMANCE.md:

    TLS_READINESS_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.addresses import parse_address
from app.core.catalog import parse_catalog_file
from app.core.checks.client_cert import ClientCertificate, ClientCertProblem, load_client_certificate
from app.core.der import DerError, looks_like_pkcs12, name_to_text
from app.core.errors import AddressError, CatalogError, TrustFileError
from app.core.findings import CODE_NUMBERS, Code, Verdict
from app.core.reference import MAX_KINDS, MAX_LENGTH, SupportCodeError, SupportSummary, _fitting, decode, encode
from app.core.resources import resource_path
from app.core.tls_contexts import TrustAnchors, load_trust_file
from tests.test_client_cert import PASSWORD, make_cert, p12

EXAMPLES = int(os.environ.get("TLS_READINESS_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
SECRET = "S3cr3t-Pa55"


def mutate(data: st.DataObject, raw: bytes) -> bytes:
    """``raw`` truncated, with bytes changed, inserted or removed: what a damaged download or a bad copy does."""
    out = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6), label="edits")):
        kind = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]), label="kind")
        if not out:
            break
        at = data.draw(st.integers(0, len(out) - 1), label="at")
        if kind == "flip":
            out[at] = data.draw(st.integers(0, 255), label="byte")
        elif kind == "insert":
            out[at:at] = data.draw(st.binary(min_size=1, max_size=16), label="inserted")
        elif kind == "delete":
            del out[at : at + data.draw(st.integers(1, 16), label="length")]
        else:
            del out[at:]
    return bytes(out)


# ---------------------------------------------------------------- addresses

_hosts = st.one_of(
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){1,3}", fullmatch=True),
    st.text(min_size=1, max_size=30),  # anything, internationalized names included
    st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
)
_addresses = st.builds(
    lambda scheme, userinfo, host, port, path: f"{scheme}{userinfo}{host}{port}{path}",
    st.sampled_from(["", "https://", "http://", "HTTPS://", "ftp://", "https:/", "//"]),
    st.sampled_from(["", f"user:{SECRET}@", "user@", ":@"]),
    _hosts,
    st.one_of(st.just(""), st.integers(-5, 70000).map(lambda p: f":{p}"), st.text(max_size=6).map(lambda t: ":" + t)),
    st.one_of(st.just(""), st.text(max_size=30).map(lambda t: "/" + t)),
)


@FUZZ
@given(st.one_of(_addresses, st.text(max_size=200)))
def test_addresses_parse_or_get_one_plain_sentence(text):
    try:
        address = parse_address(text)
    except AddressError as exc:
        sentence = str(exc)
        assert sentence and "\n" not in sentence and "Traceback" not in sentence
        assert SECRET not in sentence  # a typed password is never repeated back
        return
    assert address.url.startswith("https://")
    assert 1 <= address.port <= 65535
    assert address.host and address.host.isascii()
    assert address.path.startswith("/")
    assert parse_address(address.url) == address  # what we show parses back to the same address


# ---------------------------------------------------------------- catalogs


@cache
def _builtin_catalog() -> bytes:
    return resource_path("catalog.toml").read_bytes()


@FUZZ
@given(st.data())
def test_damaged_catalogs_are_refused_with_the_file_named(tmp_path_factory, data):
    raw = data.draw(
        st.one_of(
            st.binary(max_size=2000),
            st.builds(lambda d: mutate(d, _builtin_catalog()), st.data()),
            st.text(max_size=400).map(str.encode),
        ),
        label="catalog",
    )
    path = tmp_path_factory.mktemp("catalog") / "company-catalog.toml"
    path.write_bytes(raw)
    try:
        parse_catalog_file(path, built_in=False)
    except CatalogError as exc:
        assert str(exc).startswith(f"The catalog {path}")
        assert "Traceback" not in str(exc)


@FUZZ
@given(st.data())
def test_catalog_fields_with_wrong_values_are_named(tmp_path_factory, data):
    # A well-formed TOML file whose fields hold values of any type: the entry and the field must be named.
    value = data.draw(
        st.one_of(
            st.text(max_size=40),
            st.integers(),
            st.booleans(),
            st.floats(allow_nan=False),
            st.lists(st.text(max_size=5), max_size=3),
        ),
        label="value",
    )
    field = data.draw(
        st.sampled_from(["id", "environment", "application", "url", "name", "client_certificate", "timeout"])
    )
    entry = {
        "id": "x",
        "environment": "production",
        "application": "ads",
        "url": "https://example.invalid/",
        "name": "An address",
        "client_certificate": "none",
        "source": "fuzz",
    }
    entry[field] = value
    lines = ["[[endpoints]]", *(f"{k} = {_toml(v)}" for k, v in entry.items())]
    path = tmp_path_factory.mktemp("catalog") / "fields.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with contextlib.suppress(CatalogError):
        parse_catalog_file(path, built_in=False)


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value).replace("inf", "inf")
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", text)
    return f'"{text}"'


# ---------------------------------------------------------------- certificate files


@cache
def _samples() -> dict[str, bytes]:
    folder = Path(tempfile.gettempdir()) / f"tlsrc-fuzz-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    cert, key = make_cert()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    pem = cert.public_bytes(Encoding.PEM) + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return {
        "p12": p12(folder, cert, key).read_bytes(),
        "pem": pem,
        "der": cert.public_bytes(Encoding.DER),
        "ca_pem": cert.public_bytes(Encoding.PEM),
    }


_cert_files = st.one_of(
    st.binary(max_size=4096),
    st.builds(lambda d, kind: mutate(d, _samples()[kind]), st.data(), st.sampled_from(["p12", "pem", "der"])),
    st.builds(lambda kind, n: _samples()[kind][:n], st.sampled_from(["p12", "pem", "der"]), st.integers(0, 3000)),
)


@FUZZ
@given(data=_cert_files, password=st.one_of(st.none(), st.just(PASSWORD), st.text(max_size=20).map(SECRET.__add__)))
def test_client_certificate_files_are_loaded_or_a_finding(tmp_path_factory, data, password):
    path = tmp_path_factory.mktemp("fuzz") / "cert.p12"
    path.write_bytes(data)
    result = load_client_certificate(path, password)
    assert isinstance(result, ClientCertificate | ClientCertProblem)
    assert SECRET not in repr(result)  # the password is never kept in what is shown or written


@FUZZ
@given(st.data())
def test_trust_files_are_loaded_or_refused_in_one_sentence(tmp_path_factory, data):
    raw = data.draw(
        st.one_of(
            st.binary(max_size=3000),
            st.builds(lambda d: mutate(d, _samples()["ca_pem"]), st.data()),
            st.builds(lambda n: _samples()["ca_pem"][:n], st.integers(0, 1500)),
            st.builds(lambda d: mutate(d, _samples()["der"]), st.data()),
        ),
        label="file",
    )
    path = tmp_path_factory.mktemp("trust") / "company-ca.pem"
    path.write_bytes(raw)
    try:
        anchors = load_trust_file(path)
    except TrustFileError as exc:
        assert str(exc).startswith(f"The trusted-certificate file {path}")
        return
    assert isinstance(anchors, TrustAnchors) and anchors.ders


@FUZZ
@given(st.binary(max_size=600))
def test_der_reading_fails_only_with_der_error(data):
    looks_like_pkcs12(data)
    with contextlib.suppress(DerError):
        name_to_text(data)


def test_a_name_attribute_without_a_value_is_a_der_error():
    import pytest

    # SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 } } }: the value is missing.
    with pytest.raises(DerError):
        name_to_text(bytes.fromhex("3009310730050603550403"))


# ---------------------------------------------------------------- support codes

_codes = st.lists(st.sampled_from(sorted(CODE_NUMBERS, key=CODE_NUMBERS.__getitem__)), unique=True, max_size=20)
_summaries = st.builds(
    lambda verdict, targets, ranked: SupportSummary(
        verdict, targets, _fitting(verdict, targets, ranked), min(len(ranked), MAX_KINDS)
    ),
    st.sampled_from(list(Verdict)),
    st.integers(0, 5000),
    _codes,
)


@FUZZ
@given(_summaries)
def test_support_codes_round_trip(summary):
    code = encode(summary)
    assert len(code.replace("-", "")) <= MAX_LENGTH
    assert decode(code) == summary


@FUZZ
@given(_summaries, st.data())
def test_a_mistyped_support_code_is_caught(summary, data):
    code = encode(summary)
    positions = [i for i, ch in enumerate(code) if ch != "-"]
    at = data.draw(st.sampled_from(positions), label="at")
    alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    wrong = data.draw(st.sampled_from([c for c in alphabet if c != code[at]]), label="typo")
    typo = code[:at] + wrong + code[at + 1 :]
    try:
        decoded = decode(typo)
    except SupportCodeError as exc:
        assert "\n" not in str(exc)
        return
    raise AssertionError(f"{typo} (one character changed from {code}) decoded to {decoded}")


@FUZZ
@given(st.text(max_size=80))
def test_any_text_decodes_or_gets_one_sentence(text):
    with contextlib.suppress(SupportCodeError):
        summary = decode(text)
        assert isinstance(summary, SupportSummary)
        assert all(isinstance(c, Code) for c in summary.causes) and summary.kinds >= len(summary.causes)
