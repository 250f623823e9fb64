"""Short fuzz runs (the long runs belong to the benchmark work): nothing a user can hand us raises."""

import contextlib
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.checks.client_cert import ClientCertificate, ClientCertProblem, load_client_certificate
from app.core.der import DerError, looks_like_pkcs12, name_to_text
from tests.test_client_cert import PASSWORD, make_cert, p12

_now = dt.datetime.now(dt.UTC)


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=4096), password=st.one_of(st.none(), st.text(max_size=20)))
def test_random_files_never_crash_the_client_certificate_loader(tmp_path_factory, data, password):
    path = tmp_path_factory.mktemp("fuzz") / "cert.p12"
    path.write_bytes(data)
    assert isinstance(load_client_certificate(path, password), ClientCertificate | ClientCertProblem)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_mutated_p12_files_are_findings(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("mut")
    cert, key = make_cert()
    raw = bytearray(p12(folder, cert, key).read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = folder / "mutated.p12"
    path.write_bytes(bytes(raw))
    assert isinstance(load_client_certificate(path, PASSWORD), ClientCertificate | ClientCertProblem)


@given(st.binary(max_size=300))
def test_der_reading_fails_only_with_der_error(data):
    looks_like_pkcs12(data)
    with contextlib.suppress(DerError):
        name_to_text(data)


def test_a_name_attribute_without_a_value_is_a_der_error():
    import pytest

    # SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 } } }: the value is missing.
    with pytest.raises(DerError):
        name_to_text(bytes.fromhex("3009310730050603550403"))
