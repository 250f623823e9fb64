"""The checks one by one, against real servers on 127.0.0.1."""

import socket
import ssl
import struct
import sys
import threading

import pytest
import trustme

from app.core.assess import ProbeSet, protocol_findings
from app.core.checks import dns, server_hello, tcp
from app.core.checks.certificate import name_matches, peer_chain
from app.core.checks.dns import ResolvedAddress
from app.core.checks.handshake import HandshakeOutcome, TlsVersion, handshake, pin, version_probe_context
from app.core.der import name_to_text
from app.core.findings import Code
from app.core.net import Budget
from tests.servers import server_context


def at(port: int) -> ResolvedAddress:
    return ResolvedAddress(socket.AF_INET, ("127.0.0.1", port))


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def test_dns_finds_localhost_and_refuses_invalid_names_without_asking():
    found = dns.resolve("localhost", 443, Budget(5))
    assert found.outcome is dns.DnsOutcome.FOUND
    assert "127.0.0.1" in [a.ip for a in found.addresses]
    missing = dns.resolve("nothing-here.invalid", 443, Budget(5))
    assert missing.outcome is dns.DnsOutcome.NOT_FOUND and "RFC 6761" in missing.error


def test_tcp_tries_the_next_address_when_one_fails(server_factory):
    server = server_factory(None)
    result, sock = tcp.connect_first((at(closed_port()), at(server.port)), Budget(5))
    assert sock is not None
    sock.close()
    assert [a.outcome for a in result.attempts] == [tcp.TcpOutcome.REFUSED, tcp.TcpOutcome.CONNECTED]
    assert result.address == at(server.port)


def test_tcp_refused_and_timeout_are_told_apart():
    refused, _ = tcp.connect_first((at(closed_port()),), Budget(5))
    assert refused.outcome is tcp.TcpOutcome.REFUSED
    if not sys.platform.startswith("linux"):
        pytest.skip("a full accept queue drops new connections only on Linux")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(listener.getsockname())
        fillers.append(f)
    try:
        silent, sock = tcp.connect_first((at(listener.getsockname()[1]),), Budget(0.5))
        assert sock is None and silent.outcome is tcp.TcpOutcome.TIMEOUT
    finally:
        for f in fillers:
            f.close()
        listener.close()


def test_reset_is_its_own_outcome():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def reset_after_hello():
        conn, _ = listener.accept()
        conn.recv(1024)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    threading.Thread(target=reset_after_hello, daemon=True).start()
    ctx = ssl.create_default_context()
    result = handshake(at(listener.getsockname()[1]), "localhost", ctx, TlsVersion.TLS1_2, Budget(5))
    listener.close()
    assert result.outcome is HandshakeOutcome.CLOSED


def test_legacy_only_server(server_factory, ca):
    ctx = server_context(
        ca.issue_cert("localhost"),
        minimum_version=ssl.TLSVersion.TLSv1,
        maximum_version=ssl.TLSVersion.TLSv1_1,
        ciphers="DEFAULT:@SECLEVEL=0",
    )
    server = server_factory(ctx)
    for version in (TlsVersion.TLS1_0, TlsVersion.TLS1_1):
        probe = handshake(at(server.port), "localhost", version_probe_context(version), version, Budget(5))
        assert probe.accepted and probe.negotiated == version.value
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(client)
    pin(client, TlsVersion.TLS1_2)
    modern = handshake(at(server.port), "localhost", client, TlsVersion.TLS1_2, Budget(5))
    assert not modern.accepted


def test_a_local_no_ciphers_error_is_never_reported_as_the_server_refusing(server_factory, ca):
    server = server_factory(
        server_context(ca.issue_cert("localhost"), minimum_version=ssl.TLSVersion.TLSv1, ciphers="DEFAULT:@SECLEVEL=0")
    )
    # A TLS 1.0 context offering only TLS 1.2 suites cannot say hello at all: this fails here, not at the server.
    crippled = version_probe_context(TlsVersion.TLS1_0)
    crippled.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256")
    result = handshake(at(server.port), "localhost", crippled, TlsVersion.TLS1_0, Budget(5))
    assert result.outcome is HandshakeOutcome.LOCAL_UNSUPPORTED
    refused = handshake(
        at(server.port), "localhost", version_probe_context(TlsVersion.TLS1_1), TlsVersion.TLS1_1, Budget(5)
    )
    probes = ProbeSet(
        tls12=refused,
        tls13=refused,
        legacy=(result,),
        hello=server_hello.ServerHelloResult(server_hello.HelloOutcome.COMPLETE, "TLSv1.2"),
        system=None,
        client_cert_given=False,
    )
    codes = {f.code for f in protocol_findings(probes, "localhost")}
    assert Code.LEGACY_TLS_NOT_TESTED in codes and Code.LEGACY_TLS_REFUSED not in codes


def test_the_chain_is_kept_after_a_failed_verification(server_factory):
    root = trustme.CA()
    intermediate = root.create_child_ca()
    server = server_factory(server_context(intermediate.issue_cert("localhost")))
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # trusts nothing
    result = handshake(at(server.port), "localhost", client, TlsVersion.TLS1_2, Budget(5))
    assert (
        result.outcome is HandshakeOutcome.CERT_VERIFY_FAILED
        and result.verify_error is not None
        and result.verify_error.number == 20
    )
    assert len(result.chain) == 2  # leaf and intermediate, as sent


def test_peer_chain_on_a_live_socket(server_factory, ca):
    leaf = ca.issue_cert("localhost")
    server = server_factory(server_context(leaf))
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(client)
    with (
        socket.create_connection(("127.0.0.1", server.port)) as raw,
        client.wrap_socket(raw, server_hostname="localhost") as s,
    ):
        chain = peer_chain(s)
    assert chain[0] == ssl.PEM_cert_to_DER_cert(leaf.cert_chain_pems[0].bytes().decode())
    assert len(chain) == len(set(chain))


def test_name_matching_follows_browser_rules():
    from app.core.checks.certificate import describe

    ca = trustme.CA()
    cert = ca.issue_cert("*.caiso.com", "caiso.com", "10.0.0.1")
    info = describe(ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode()))
    assert name_matches(info, "ads.caiso.com") and name_matches(info, "caiso.com")
    assert name_matches(info, "10.0.0.1")
    assert not name_matches(info, "a.b.caiso.com") and not name_matches(info, "evilcaiso.com")
    assert not name_matches(info, "10.0.0.2")


def test_certificate_request_names_are_read_from_a_real_openssl_server(tmp_path, ca):
    import shutil
    import subprocess
    import time

    if not shutil.which("openssl"):
        pytest.skip("needs the openssl program")
    client_ca = trustme.CA(organization_name="CAISO")
    leaf = ca.issue_cert("localhost")
    (tmp_path / "cert.pem").write_bytes(leaf.cert_chain_pems[0].bytes())
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    client_ca.cert_pem.write_to_path(str(tmp_path / "clientca.pem"))
    port = closed_port()
    proc = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            tmp_path / "cert.pem",
            "-key",
            tmp_path / "key.pem",
            "-CAfile",
            tmp_path / "clientca.pem",
            "-Verify",
            "1",
            "-tls1_2",
            "-quiet",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.setblocking(False)
        result = server_hello.read_first_flight(sock, "localhost", Budget(5))
    finally:
        proc.terminate()
        proc.wait(5)
    assert result.outcome is server_hello.HelloOutcome.COMPLETE
    assert result.client_cert_requested
    assert any("O=CAISO" in name for name in result.acceptable_cas), result.acceptable_cas
    assert result.chain and result.version == "TLSv1.2"


def test_distinguished_names_print_most_specific_first():
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CAISO"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "people"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Pat Doex1234"),
        ]
    )
    assert name_to_text(name.public_bytes()) == "CN=Pat Doex1234, OU=people, O=CAISO, C=US"


@pytest.mark.skipif(
    not sys.platform.startswith("linux"),
    reason="adds a company authority to this computer's store through OpenSSL's SSL_CERT_FILE, which only Linux reads",
)
def test_tls_inspection_is_recognised(server_factory, monkeypatch, tmp_path):
    from app.core.findings import Code
    from app.core.runner import run_checks
    from tests.conftest import target

    # A "company" authority that this computer trusts (its store, via OpenSSL's SSL_CERT_FILE) but Mozilla does not.
    company = trustme.CA(organization_name="ACME Inspection")
    bundle = tmp_path / "system-store.pem"
    bundle.write_bytes(company.cert_pem.bytes())
    server = server_factory(server_context(company.issue_cert("localhost")))
    untrusted = run_checks([target(server.url)]).targets[0]
    assert Code.CERT_UNTRUSTED in {f.code for f in untrusted.findings}
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    inspected = run_checks([target(server.url)]).targets[0]
    codes = {f.code for f in inspected.findings}
    assert Code.TLS_INSPECTION_SUSPECTED in codes and Code.CERT_UNTRUSTED not in codes
    stores = {t.store: t.verdict.value for t in inspected.trust}
    assert stores == {"mozilla": "not_trusted", "system": "trusted"}


def test_a_runs_contexts_are_made_once_each_while_others_are_made():
    """Sixteen checks ask at once: each kind of context is made once and shared, and asking for one does not wait
    for another kind (each is made under a lock of its own)."""
    from concurrent.futures import ThreadPoolExecutor

    from app.core.tls_contexts import ContextFactory

    factory = ContextFactory()
    kinds = [factory.verified, factory.system, factory.clock_reading]
    with ThreadPoolExecutor(16) as pool:
        made = list(pool.map(lambda i: kinds[i % len(kinds)](), range(64)))
    for i, kind in enumerate(kinds):
        assert {id(ctx) for ctx in made[i :: len(kinds)]} == {id(kind())}, i
    assert len({id(ctx) for ctx in made}) == len(kinds)
    fresh = ContextFactory()
    being_made = fresh._making.setdefault(("verified", None), threading.Lock())
    with being_made, ThreadPoolExecutor(1) as pool:
        other = pool.submit(fresh.system)
        assert other.result(timeout=30) is fresh.system()  # it holds up no other kind


def test_the_tls12_and_tls13_handshakes_share_one_context_and_each_connection_keeps_its_own_version(server_factory):
    """One verified context (one trust store loaded) serves both versions: each connection is pinned as it is
    made, and keeps its version though the context is pinned to the other one for the next connection before
    the first connection's handshake begins. The server speaks both; 24 handshakes from 8 threads alternate."""
    from concurrent.futures import ThreadPoolExecutor

    from app.core.tls_contexts import ContextFactory, TrustAnchors

    ca = trustme.CA()
    server = server_factory(server_context(ca.issue_cert("localhost")))
    factory = ContextFactory(extra=(TrustAnchors.from_pem("test", ca.cert_pem.bytes().decode()),))
    shared = factory.verified()
    versions = [TlsVersion.TLS1_2, TlsVersion.TLS1_3] * 12
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda v: handshake(at(server.port), "localhost", shared, v, Budget(5)), versions))
    assert [(r.negotiated, r.verified) for r in results] == [(v.value, True) for v in versions]

    from app.core.checks.handshake import _wrap

    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        connection = _wrap(shared, raw, "localhost", TlsVersion.TLS1_2)
        pin(shared, TlsVersion.TLS1_3)  # as the next TLS 1.3 connection does, before this one's handshake
        connection.settimeout(5)
        connection.do_handshake()
        assert connection.version() == TlsVersion.TLS1_2.value
        connection.close()


def test_trust_stores_loaded_ahead_are_handed_out_once_and_only_while_they_still_hold(tmp_path, monkeypatch):
    """The command line starts loading a check's stores before the engine loads: each context loaded ahead goes
    to one check only, and a system store loaded before SSL_CERT_FILE changed is not handed out."""
    import certifi

    from app.core import trust_stores
    from app.core.trust_stores import Store, fresh, preload

    monkeypatch.setattr(trust_stores, "_ahead", [])
    preload(mozilla=2, system=0)
    ahead = list(trust_stores._ahead)
    assert len(ahead) == 2
    for entry in ahead:
        assert entry.done.wait(30)
    first, second, third = fresh(Store.MOZILLA), fresh(Store.MOZILLA), fresh(Store.MOZILLA)  # the third loads now
    assert (first, second) == (ahead[0].context, ahead[1].context)  # those loaded ahead, once each
    assert len({id(first), id(second), id(third)}) == 3 and trust_stores._ahead == []
    mozilla = ssl.create_default_context(cafile=certifi.where())
    for ctx in (first, second, third):
        assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
        assert len(ctx.get_ca_certs()) == len(mozilla.get_ca_certs()) > 100

    if not trust_stores.LOADS_SYSTEM_STORE:
        return  # Windows and macOS: the operating system verifies, nothing is loaded here
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    ca = trustme.CA()
    bundle = tmp_path / "company.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "none"))
    preload(mozilla=0, system=1)
    assert trust_stores._ahead[0].done.wait(30)
    assert fresh(Store.SYSTEM) is not None and trust_stores._ahead == []  # loaded ahead, and handed out

    preload(mozilla=0, system=1)
    [entry] = trust_stores._ahead
    assert entry.done.wait(30)  # loaded under this bundle, with the company's authority alone...
    other = trustme.CA()
    bundle.write_bytes(ca.cert_pem.bytes() + other.cert_pem.bytes())  # ...which has since gained another
    system = fresh(Store.SYSTEM)
    assert system is not entry.context and trust_stores._ahead == []
    assert [c["subject"] for c in system.get_ca_certs()] == [c["subject"] for c in ca_certs(bundle)]
    assert len(system.get_ca_certs()) == 2

    preload(mozilla=0, system=1)
    [entry] = trust_stores._ahead
    assert entry.done.wait(30)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "elsewhere.pem"))  # another setting: not this one either
    assert fresh(Store.SYSTEM) is not entry.context


def ca_certs(bundle):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile=str(bundle))
    return ctx.get_ca_certs()


def test_a_warning_silenced_in_one_thread_stays_silenced_while_others_silence_theirs():
    """warnings.catch_warnings swaps the process's filters: two threads at once could put back each other's and
    let a silenced warning out (here, where warnings are errors, as an exception). silenced() takes turns."""
    import warnings

    from app.core.silence import silenced

    escaped: list[BaseException] = []

    def worker(category: type[Warning]) -> None:
        for _ in range(3000):
            try:
                with silenced(category):
                    warnings.warn("silenced here", category, stacklevel=1)
            except Warning as exc:
                escaped.append(exc)
                return

    import sys

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # the threads take turns between almost any two steps
    try:
        threads = [threading.Thread(target=worker, args=(c,)) for c in (DeprecationWarning, UserWarning) * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switching)
    assert not escaped
