"""From check results to findings. Pure functions: the same results always give the same findings, so the
interpretation is tested without a network."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.checks.certificate import (
    EXPIRING_SOON_DAYS,
    CertificateInfo,
    describe,
    name_matches,
)
from app.core.checks.chain import ChainCompletion
from app.core.checks.dns import DnsOutcome, DnsResult
from app.core.checks.handshake import HandshakeOutcome, HandshakeResult, TlsVersion
from app.core.checks.http import HttpOutcome, HttpResult
from app.core.checks.issuers import ExpectedIssuer, chain_end, ends_at, shown
from app.core.checks.revocation import RevocationResult, RevocationStatus
from app.core.checks.server_hello import ServerHelloResult
from app.core.checks.tcp import TcpOutcome, TcpResult
from app.core.checks.transcript import CertificateRequest
from app.core.findings import Check, Code, Finding
from app.core.model import StoreVerdict, TrustResult
from app.core.tls_errors import (
    HANDSHAKE_FAILURE_REASON,
    CipherWeakness,
    ClientCertAlert,
    cipher_weakness,
    client_cert_alert,
    http_client_cert_refusal,
    http_name_required,
    suite_name,
)


def dns_findings(result: DnsResult) -> list[Finding]:
    """DNS_OK, DNS_NOT_FOUND or DNS_FAILED."""
    params = {"host": result.host}
    if result.outcome is DnsOutcome.FOUND:
        ips = ", ".join(a.ip for a in result.addresses)
        return [
            Finding(
                Code.DNS_OK,
                Check.DNS,
                {**params, "addresses": ips},
                f"{result.host} -> {ips} ({result.elapsed_ms:.0f} ms)",
            )
        ]
    code = Code.DNS_NOT_FOUND if result.outcome is DnsOutcome.NOT_FOUND else Code.DNS_FAILED
    return [Finding(code, Check.DNS, params, f"{result.outcome.value}: {result.error}")]


def tcp_findings(result: TcpResult, host: str, port: int) -> list[Finding]:
    """TCP_OK or the way the connection failed."""
    tried = "; ".join(
        f"{a.address}: {a.outcome.value}{f' ({a.error})' if a.error else ''} in {a.elapsed_ms:.0f} ms"
        for a in result.attempts
    )
    params = {"host": host, "port": str(port), "ms": f"{result.elapsed_ms:.0f}"}
    code = {
        TcpOutcome.CONNECTED: Code.TCP_OK,
        TcpOutcome.REFUSED: Code.TCP_REFUSED,
        TcpOutcome.TIMEOUT: Code.TCP_TIMEOUT,
        TcpOutcome.RESET: Code.CONNECTION_RESET,
        TcpOutcome.UNREACHABLE: Code.TCP_UNREACHABLE,
        TcpOutcome.ERROR: Code.TCP_UNREACHABLE,
    }[result.outcome]
    return [Finding(code, Check.TCP, params, tried)]


@dataclass(frozen=True)
class ProbeSet:
    """The results of the handshakes made to one endpoint after the connection worked.

    Attributes:
        tls12: the verified TLS 1.2 handshake (with its HTTP exchange).
        tls13: the verified TLS 1.3 handshake (with its HTTP exchange).
        legacy: the TLS 1.0 and 1.1 version probes.
        hello: the TLS 1.2 first flight read in the clear.
        system: the handshake verified by this computer's own trust store.
        client_cert_given: True when the user gave a usable client certificate.
        client_cert_issuers: the authorities the user's certificate can be matched with by a server's list: its
            issuer, and the subjects and issuers of the intermediates in its file (as the transcript writes names).
        client_cert_complete: True when that file holds the chain up to a root (so those names are all there are).
        chain_completion: what fetching a missing issuer's certificate showed, when the server sent none.
    """

    tls12: HandshakeResult
    tls13: HandshakeResult
    legacy: tuple[HandshakeResult, ...]
    hello: ServerHelloResult
    system: HandshakeResult | None
    client_cert_given: bool
    chain_completion: ChainCompletion | None = None
    client_cert_issuers: tuple[str, ...] = ()
    client_cert_complete: bool = False


def _client_cert_refusal(result: HandshakeResult, hello: ServerHelloResult) -> bool:
    """Did the handshake end because of the client certificate (missing or refused)?"""
    if result.outcome is not HandshakeOutcome.PEER_ALERT:
        return False
    if client_cert_alert(result.tls_reason) is not ClientCertAlert.NONE:
        return True
    # A plain "handshake failure" after the server asked for a certificate.
    asked = (result.transcript is not None and result.transcript.certificate_request is not None) or (
        result.version is TlsVersion.TLS1_2 and hello.client_cert_requested
    )
    return result.tls_reason == HANDSHAKE_FAILURE_REASON and asked


def _refuses_tls12(probes: ProbeSet) -> bool:
    """TLS 1.2 failed while another version worked: the server refuses TLS 1.2, whatever alert it chose (some
    servers, such as openssl s_server without TLS 1.2, answer "handshake failure" or "internal error" rather
    than "protocol version"). Our TLS 1.2 offer is what Windows and Java offer, so they would be refused too."""
    t12 = probes.tls12
    if t12.accepted or t12.outcome is HandshakeOutcome.CERT_VERIFY_FAILED or _client_cert_refusal(t12, probes.hello):
        return False
    if t12.outcome is HandshakeOutcome.VERSION_REFUSED:
        return True
    if any(p.accepted for p in probes.legacy) or probes.hello.version in ("TLSv1", "TLSv1.1"):
        return t12.outcome in (HandshakeOutcome.PEER_ALERT, HandshakeOutcome.CLOSED)
    # TLS 1.3 works: only an alert says "not 1.2" (a cut connection may be a passing fault of the network).
    return probes.tls13.accepted and t12.outcome is HandshakeOutcome.PEER_ALERT


def _server_speaks_tls(result: HandshakeResult) -> bool:
    return result.outcome in (
        HandshakeOutcome.ACCEPTED,
        HandshakeOutcome.CERT_VERIFY_FAILED,
        HandshakeOutcome.VERSION_REFUSED,
        HandshakeOutcome.PEER_ALERT,
    )


def protocol_findings(probes: ProbeSet, host: str) -> list[Finding]:
    """TLS 1.2, TLS 1.3 and the legacy versions."""
    t12 = probes.tls12
    params = {"host": host}
    findings: list[Finding] = []
    detail = _handshake_detail(t12)
    if t12.outcome in (HandshakeOutcome.ACCEPTED, HandshakeOutcome.CERT_VERIFY_FAILED) or _client_cert_refusal(
        t12, probes.hello
    ):
        cipher = t12.cipher or suite_name(probes.hello.cipher_suite)
        findings.append(Finding(Code.TLS12_OK, Check.TLS12, {**params, "cipher": cipher}, detail))
        weakness = cipher_weakness(cipher)
        if weakness is not CipherWeakness.NONE:
            why = {
                CipherWeakness.NO_FORWARD_SECRECY: "RSA key exchange, without forward secrecy",
                CipherWeakness.OLD_ENCRYPTION: "CBC (or older) encryption rather than GCM or ChaCha20",
            }[weakness]
            findings.append(
                Finding(Code.TLS12_WEAK_CIPHER, Check.TLS12, {**params, "cipher": cipher}, f"{cipher}: {why}")
            )
    elif _refuses_tls12(probes):
        findings.append(Finding(Code.TLS12_REFUSED, Check.TLS12, params, detail))
    elif t12.outcome is HandshakeOutcome.NAME_REQUIRED:
        findings.append(Finding(Code.TLS_NAME_REQUIRED, Check.TLS12, params, detail))
    elif t12.outcome is HandshakeOutcome.NOT_TLS:
        findings.append(Finding(Code.NOT_TLS, Check.TLS12, params, detail))
    elif t12.outcome is HandshakeOutcome.TIMEOUT:
        findings.append(Finding(Code.HANDSHAKE_TIMEOUT, Check.TLS12, params, detail))
    elif t12.outcome in (HandshakeOutcome.CLOSED, HandshakeOutcome.CONNECT_FAILED):
        findings.append(Finding(Code.CONNECTION_RESET, Check.TLS12, params, detail))
    elif t12.outcome is HandshakeOutcome.LOCAL_UNSUPPORTED:
        findings.append(Finding(Code.INTERNAL_ERROR, Check.TLS12, params, detail))
    else:
        findings.append(Finding(Code.HANDSHAKE_FAILED, Check.TLS12, params, detail))

    if not _server_speaks_tls(t12) and not probes.tls13.accepted:
        return findings  # nothing more to learn: the other probes met the same wall
    t13 = probes.tls13
    if t13.outcome in (HandshakeOutcome.ACCEPTED, HandshakeOutcome.CERT_VERIFY_FAILED) or _client_cert_refusal(
        t13, probes.hello
    ):
        findings.append(Finding(Code.TLS13_OK, Check.TLS13, {**params, "cipher": t13.cipher}, _handshake_detail(t13)))
    else:
        findings.append(Finding(Code.TLS13_NOT_OFFERED, Check.TLS13, params, _handshake_detail(t13)))

    groups: dict[Code, list[HandshakeResult]] = {}
    for probe in probes.legacy:
        if probe.accepted:
            code = Code.LEGACY_TLS_ACCEPTED
        elif probe.outcome in (
            HandshakeOutcome.LOCAL_UNSUPPORTED,
            HandshakeOutcome.TIMEOUT,
            HandshakeOutcome.NOT_TRIED,
            HandshakeOutcome.CONNECT_FAILED,
            HandshakeOutcome.ERROR,
        ):
            code = Code.LEGACY_TLS_NOT_TESTED
        else:
            code = Code.LEGACY_TLS_REFUSED
        groups.setdefault(code, []).append(probe)
    for code, probes_ in groups.items():
        versions = " and ".join(p.version.label for p in probes_)
        details = "; ".join(_handshake_detail(p) for p in probes_)
        findings.append(Finding(code, Check.LEGACY, {**params, "versions": versions}, details))
    return findings


def certificate_findings(
    probes: ProbeSet,
    host: str,
    now: dt.datetime,
    anchor_label: str = "",
    own_anchor: bool = False,
    expected: tuple[ExpectedIssuer, ...] = (),
) -> tuple[list[Finding], tuple[CertificateInfo, ...], tuple[TrustResult, ...]]:
    """The server certificate: verification, the facts of the leaf, and which stores trust the chain.

    ``anchor_label`` names the extra anchor set the verified chain ended in ("" for Mozilla's roots);
    ``own_anchor`` is True when that set belongs to this endpoint only (the practice lab), in which case this
    computer's own store is not expected to trust it. ``expected`` are the authorities the catalog says the
    certificate comes from (empty: not known).
    """
    verified = next((p for p in (probes.tls12, probes.tls13) if p.verified), None)
    failed = next((p for p in (probes.tls12, probes.tls13) if p.outcome is HandshakeOutcome.CERT_VERIFY_FAILED), None)
    source = verified or failed
    chain_ders = source.chain if source else _first_chain(probes)
    chain = _describe_all(chain_ders)
    trust = _trust_results(probes, verified, failed, anchor_label)
    if not chain:
        return [], chain, trust
    leaf = chain[0]
    days = leaf.days_left(now)
    params = {
        "host": host,
        "subject": leaf.subject,
        "issuer": leaf.issuer,
        "days": str(days),
        "until": leaf.not_after.date().isoformat(),
        "from": leaf.not_before.date().isoformat(),
        "names": _some_names(leaf.alt_names),
    }
    facts = _leaf_facts(chain, host, now)
    codes: list[Code] = []
    if failed is not None and verified is None:
        # Our own reading of the certificate first (it explains more than the first error OpenSSL met).
        codes.extend(c for c in facts if c is not Code.CERT_EXPIRING_SOON)
        mapped = failed.verify_error.code if failed.verify_error else Code.CERT_UNTRUSTED
        if mapped is Code.CERT_UNTRUSTED and leaf.self_issued:
            mapped = Code.CERT_SELF_SIGNED
        completion = probes.chain_completion
        if mapped is Code.CERT_UNTRUSTED and completion is not None:
            # The server sent no issuer for its certificate: a mistake of the server's, which browsers hide.
            if completion.completes:
                mapped = Code.CERT_CHAIN_INCOMPLETE
            elif not completion.fetched.ok:
                mapped = Code.CERT_CHAIN_INCOMPLETE_UNREACHABLE
                params["why"] = completion.fetched.error
        validity = (Code.CERT_EXPIRED, Code.CERT_NOT_YET_VALID)  # Windows has one number for both: the dates tell
        already = mapped in codes or (mapped in validity and any(c in validity for c in codes))
        if not already and not (mapped is Code.CERT_UNTRUSTED and Code.CERT_SELF_SIGNED in codes):
            codes.append(mapped)
        if (
            probes.system is not None
            and probes.system.accepted
            and mapped in (Code.CERT_UNTRUSTED, Code.CERT_SELF_SIGNED)
        ):
            # Unknown to the public roots, yet this computer trusts it: something re-signs the traffic, or the
            # company installed a private authority on purpose. The expected issuers, when known, tell which.
            seen = (*failed.chain, *((probes.system.anchor,) if probes.system.anchor else ()))
            match = ends_at(seen, expected) if expected else None
            if match is not None:
                params.update(variant="expected", issuer=match.text)  # the private authority expected here
            else:
                if expected:
                    params.update(variant="expected", expected=shown(expected), seen=chain_end(seen))
                codes = [
                    Code.TLS_INSPECTION_SUSPECTED if c in (Code.CERT_UNTRUSTED, Code.CERT_SELF_SIGNED) else c
                    for c in codes
                ]
    elif verified is not None:
        codes.extend(c for c in facts if c in (Code.CERT_EXPIRING_SOON, Code.CERT_WEAK_KEY, Code.CERT_WEAK_SIGNATURE))
    else:
        # No verified handshake was possible (for example the server refuses TLS 1.2): report only what the
        # certificate itself shows, never "OK".
        codes.extend(c for c in facts if c is not Code.CERT_SELF_SIGNED)
    detail = _chain_detail(chain, failed, anchor_label, probes.chain_completion)
    if expected:
        ends = chain_end(chain_ders)
        detail += f"\nexpected issuers: {shown(expected)}; the chain as sent ends at: {ends or '(nothing)'}"
    findings = [Finding(code, Check.CERTIFICATE, params, detail) for code in dict.fromkeys(codes)]
    if verified is not None and not any(f.status.value == "fail" for f in findings):
        if not any(f.code is Code.CERT_EXPIRING_SOON for f in findings):
            findings.insert(0, Finding(Code.CERT_OK, Check.CERTIFICATE, params, detail))
        system = next((t for t in trust if t.store == "system"), None)
        if system and system.verdict is StoreVerdict.NOT_TRUSTED and not own_anchor:
            findings.append(Finding(Code.CERT_NOT_TRUSTED_BY_SYSTEM, Check.CERTIFICATE, params, system.detail))
    return findings, chain, trust


NAMES_SHOWN = 5  # a certificate can name hundreds of servers: the words show a few and count the rest


def _some_names(names: Sequence[str]) -> str:
    """The certificate's names for a sentence: all of a few, or the first few and how many more."""
    if not names:
        return "(none)"
    if len(names) <= NAMES_SHOWN + 1:
        return ", ".join(names)
    return f"{', '.join(names[:NAMES_SHOWN])} and {len(names) - NAMES_SHOWN} more"


def _leaf_facts(chain: tuple[CertificateInfo, ...], host: str, now: dt.datetime) -> list[Code]:
    leaf = chain[0]
    codes = []
    if now > leaf.not_after:
        codes.append(Code.CERT_EXPIRED)
    elif now < leaf.not_before:
        codes.append(Code.CERT_NOT_YET_VALID)
    elif leaf.days_left(now) <= EXPIRING_SOON_DAYS:
        codes.append(Code.CERT_EXPIRING_SOON)
    if not name_matches(leaf, host):
        codes.append(Code.CERT_NAME_MISMATCH)
    if leaf.self_issued and len(chain) == 1:
        codes.append(Code.CERT_SELF_SIGNED)
    if any(c.has_weak_signature for c in chain):
        codes.append(Code.CERT_WEAK_SIGNATURE)
    if any(c.has_weak_key for c in chain):
        codes.append(Code.CERT_WEAK_KEY)
    return codes


def _trust_results(
    probes: ProbeSet, verified: HandshakeResult | None, failed: HandshakeResult | None, anchor_label: str
) -> tuple[TrustResult, ...]:
    results = []
    if verified is not None:
        where = f"extra trusted certificates ({anchor_label})" if anchor_label else "Mozilla's public roots"
        anchor = _subject_of(verified.anchor)
        results.append(TrustResult("mozilla", StoreVerdict.TRUSTED, f"ends at {anchor} from {where}"))
    elif failed is not None:
        results.append(TrustResult("mozilla", StoreVerdict.NOT_TRUSTED, _verify_detail(failed)))
    else:
        results.append(TrustResult("mozilla", StoreVerdict.NOT_CHECKED, "no handshake reached the certificate"))
    system = probes.system
    if system is None:
        results.append(TrustResult("system", StoreVerdict.NOT_CHECKED, "not checked"))
    elif system.accepted:
        results.append(TrustResult("system", StoreVerdict.TRUSTED, "this computer's own trust store accepts it"))
    elif system.outcome is HandshakeOutcome.CERT_VERIFY_FAILED:
        results.append(TrustResult("system", StoreVerdict.NOT_TRUSTED, _verify_detail(system)))
    else:
        results.append(TrustResult("system", StoreVerdict.NOT_CHECKED, _handshake_detail(system)))
    return tuple(results)


def http_findings(probes: ProbeSet, host: str) -> list[Finding]:
    """The answer to our request: HTTP_OK, HTTP_FORBIDDEN, HTTP_NOT_FOUND or HTTP_NO_ANSWER. An answer that
    refuses for want of a (good) client certificate is reported by :func:`client_cert_findings` instead."""
    main = _main_result(probes)
    answer = main.http if main is not None else None
    if main is None or answer is None:
        return []
    if client_cert_state(main, probes.hello, probes.client_cert_given).refusal is not ClientCertAlert.NONE:
        return []
    params = {"host": host, "status": str(answer.status or ""), "reason": answer.reason}
    detail = _http_detail(answer)
    if answer.outcome is HttpOutcome.ANSWERED:
        if http_name_required(answer.status, answer.text):
            code = Code.TLS_NAME_REQUIRED
        elif answer.status == 403:
            code = Code.HTTP_FORBIDDEN
            params["with_cert"] = "yes" if probes.client_cert_given else "no"
            if not probes.client_cert_given:
                params["variant"] = "no_cert"  # the words say what to do without one, not "if you used one"
        elif answer.status == 404:
            code = Code.HTTP_NOT_FOUND
        else:
            code = Code.HTTP_OK
        return [Finding(code, Check.HTTP, params, detail)]
    return [Finding(Code.HTTP_NO_ANSWER, Check.HTTP, params, detail)]


@dataclass(frozen=True)
class ClientCertState:
    """What one verified handshake, and the request after it, showed about the client certificate.

    Attributes:
        request: the server's request for one (from the handshake's transcript), if it made one.
        asked: the server asked (in the handshake, TLS 1.2 or 1.3, or later by renegotiating).
        sent: ours went to the server.
        refusal: the server refused for want of one (MISSING) or refused ours (REFUSED), by an alert or by
            its HTTP answer; NONE when it did neither.
        how: how that showed, for the technical details (the server's own words where it gave some).
    """

    request: CertificateRequest | None
    asked: bool
    sent: bool
    refusal: ClientCertAlert
    how: str

    @property
    def accepted(self) -> bool:
        """The server asked, got ours, and went on to answer without refusing."""
        return self.asked and self.sent and self.refusal is ClientCertAlert.NONE


_REFUSING_STATUSES = frozenset({401, 403, 495, 496})


def client_cert_state(result: HandshakeResult, hello: ServerHelloResult, given: bool) -> ClientCertState:
    """Read the evidence of one handshake: who asked for what, what was sent, and what the server said."""
    transcript = result.transcript
    request = transcript.certificate_request if transcript else None
    asked = request is not None or (result.version is TlsVersion.TLS1_2 and hello.client_cert_requested)
    sent = bool(transcript.client_certificate_sent) if transcript is not None else given and asked
    answer = result.http
    how = ""
    refused = False
    if _client_cert_refusal(result, hello):
        refused, how = True, f"the handshake ended with {result.tls_reason}"
    elif answer is not None and answer.outcome in (HttpOutcome.CLIENT_CERT_REQUIRED, HttpOutcome.CLIENT_CERT_REFUSED):
        refused, how = True, f"the first read after the handshake ended with {answer.tls_reason}"
    elif answer is not None and answer.outcome is HttpOutcome.ANSWERED:
        # Only the page's own words (or 495/496) make an answer a refusal about the certificate: a server that
        # asks for one optionally may answer 401 or 403 for other reasons.
        if http_client_cert_refusal(answer.status, answer.text) is not ClientCertAlert.NONE:
            refused, how = True, f"HTTP {answer.status} {answer.reason}: {answer.text or '(no page)'}"
    elif answer is not None and request is not None and request.renegotiation:
        # Asked for after our request (TLS 1.2 renegotiation), then the server broke off instead of answering.
        refused, how = True, f"the server asked again after the request, then: {answer.outcome.value} {answer.error}"
    if refused:
        refusal = ClientCertAlert.REFUSED if sent else ClientCertAlert.MISSING
    else:
        refusal = ClientCertAlert.NONE
        if answer is not None and answer.outcome is HttpOutcome.ANSWERED and answer.status in _REFUSING_STATUSES:
            how = f"HTTP {answer.status} {answer.reason}"  # a refusal, but not about the certificate
    return ClientCertState(request, asked, sent, refusal, how)


def acceptable_client_cas(probes: ProbeSet) -> tuple[str, ...]:
    """The authorities the server named for client certificates (TLS 1.2 or 1.3, or when it asked later)."""
    for result in (probes.tls12, probes.tls13):
        request = result.transcript.certificate_request if result.transcript else None
        if request is not None:
            return request.authorities
    return probes.hello.acceptable_cas


def client_cert_findings(probes: ProbeSet, host: str) -> list[Finding]:
    """Whether the server demands a client certificate, and what it made of ours, for TLS 1.2 and 1.3.

    CLIENT_CERT_OK only when the server asked, ours was sent and the server then answered without refusing;
    a refusal by alert or by an HTTP page ("No required SSL certificate was sent", 403.7, 496) is
    CLIENT_CERT_REQUIRED without a certificate and CLIENT_CERT_REJECTED with one.
    """
    given = probes.client_cert_given
    states = [(r, client_cert_state(r, probes.hello, given)) for r in (probes.tls12, probes.tls13)]
    cas = acceptable_client_cas(probes)
    params = {"host": host, "cas": "; ".join(cas) if cas else "any authority it trusts (it did not name one)"}
    lines = []
    for result, st in states:
        label = result.version.label
        if st.request is not None:
            when = "after our request (renegotiation)" if st.request.renegotiation else "during the handshake"
            named = "; ".join(st.request.authorities) or "no authority"
            lines.append(f"{label}: the server asked for a certificate {when}, naming {named}")
        if st.asked:
            lines.append(f"{label}: ours was {'sent' if st.sent else 'not sent' if given else 'not sent (none given)'}")
        if st.how:
            lines.append(f"{label}: {st.how}")
        elif result.accepted:
            lines.append(f"{label}: accepted")
    detail = "; ".join(lines)
    asked = any(st.asked for _, st in states)
    refused = any(st.refusal in (ClientCertAlert.REFUSED, ClientCertAlert.MISSING) for _, st in states)
    if given and refused and cas and probes.client_cert_issuers and not set(cas) & set(probes.client_cert_issuers):
        # The server refused, and the authorities it accepts do not include ours: that is why (and Windows'
        # SChannel and Java, which choose by that list, would send nothing at all).
        wrong = {**params, "issuer": probes.client_cert_issuers[0]}
        if not probes.client_cert_complete:
            # The authority above may be one the server names: the file may only lack the certificate between.
            wrong["variant"] = "partial"
        detail += f"; ours comes from {probes.client_cert_issuers[0]}, which the server does not name"
        return [Finding(Code.CLIENT_CERT_WRONG_ISSUER, Check.CLIENT_CERT, wrong, detail)]
    if any(st.refusal is ClientCertAlert.REFUSED for _, st in states):
        return [Finding(Code.CLIENT_CERT_REJECTED, Check.CLIENT_CERT, params, detail)]
    if any(st.refusal is ClientCertAlert.MISSING for _, st in states):
        return [Finding(Code.CLIENT_CERT_REQUIRED, Check.CLIENT_CERT, params, detail)]
    if not given:
        return []
    answered = [
        (r, st)
        for r, st in states
        if r.accepted
        and r.http is not None
        and r.http.outcome is HttpOutcome.ANSWERED
        and r.http.status not in _REFUSING_STATUSES
    ]
    if any(st.accepted for _, st in answered):
        return [Finding(Code.CLIENT_CERT_OK, Check.CLIENT_CERT, params, detail)]
    if answered and not asked:
        return [Finding(Code.CLIENT_CERT_NOT_REQUESTED, Check.CLIENT_CERT, params, detail)]
    return []


def server_problem(findings: Iterable[Finding]) -> bool:
    """Did this program already find the server's TLS or certificate wanting? Then other programs failing
    against it (Java, the system's curl) say nothing new. TLS inspection is the exception: there, which
    programs trust the chain is the point."""
    return any(
        (
            f.status.value == "fail"
            and f.check in (Check.TLS12, Check.TLS13, Check.CERTIFICATE)
            and f.code is not Code.TLS_INSPECTION_SUSPECTED
        )
        or f.code is Code.CERT_REVOKED
        for f in findings
    )


ADDRESSES_SHOWN = 4  # the words name this many unreachable revocation addresses; the details have them all


def revocation_findings(result: RevocationResult | None, host: str) -> list[Finding]:
    """CERT_REVOKED, REVOCATION_UNREACHABLE, REVOCATION_OK or REVOCATION_NOT_CHECKED for a verified chain
    (``None``: the chain did not verify, so nothing was asked: the certificate's own findings say why)."""
    if result is None or not result.certificates:
        return []
    detail = "\n".join(result.lines())
    params = {"host": host}
    revoked = result.revoked
    if revoked is not None:
        leaf = revoked is result.certificates[0]
        when = revoked.revoked_on.date().isoformat() if revoked.revoked_on else "an unknown date"
        whose = "the server's own certificate" if leaf else f"the certificate of the authority {revoked.subject}"
        return [
            Finding(
                Code.CERT_REVOKED,
                Check.REVOCATION,
                {
                    **params,
                    "subject": revoked.subject,
                    "whose": whose,
                    "until": when,
                    "reason": revoked.reason or "no reason given",
                },
                detail,
            )
        ]
    if result.unanswered:
        failed = result.failed_attempts
        blocked = [a for a in failed if a.how]  # not reached: what IT can let through
        if not blocked and failed:
            params["variant"] = "unusable"  # they answered, but nothing usable: a firewall is not the cause
        listed = blocked or failed
        shown = [f"{a.url} ({a.how or a.answer})" for a in listed[:ADDRESSES_SHOWN]]
        if len(listed) > ADDRESSES_SHOWN:
            shown.append(f"and {len(listed) - ADDRESSES_SHOWN} more (see the details)")
        return [
            Finding(
                Code.REVOCATION_UNREACHABLE,
                Check.REVOCATION,
                {**params, "addresses": "; ".join(shown) or "(none could be asked)"},
                detail,
            )
        ]
    if result.certificates[0].status is RevocationStatus.NOT_NAMED:
        return [Finding(Code.REVOCATION_NOT_CHECKED, Check.REVOCATION, params, detail)]
    if result.certificates[0].source == "stapled":
        params["variant"] = "stapled"
    return [Finding(Code.REVOCATION_OK, Check.REVOCATION, params, detail)]


def _main_result(probes: ProbeSet) -> HandshakeResult | None:
    """The handshake whose answer to our request counts: TLS 1.2's, or TLS 1.3's when TLS 1.2 failed."""
    for result in (probes.tls12, probes.tls13):
        if result.accepted and result.http is not None:
            return result
    return None


def _first_chain(probes: ProbeSet) -> tuple[bytes, ...]:
    for chain in (probes.tls12.chain, probes.tls13.chain, probes.hello.chain, *(p.chain for p in probes.legacy)):
        if chain:
            return chain
    return ()


def _describe_all(ders: Iterable[bytes]) -> tuple[CertificateInfo, ...]:
    infos = []
    for der in ders:
        try:
            infos.append(describe(der))
        except ValueError:
            continue
    return tuple(infos)


def _subject_of(der: bytes) -> str:
    if not der:
        return "(unknown)"
    try:
        return describe(der).subject
    except ValueError:
        return "(unreadable)"


def _handshake_detail(result: HandshakeResult) -> str:
    if result.accepted:
        return f"{result.version.label}: accepted, {result.cipher} in {result.elapsed_ms:.0f} ms"
    text = f"{result.version.label}: {result.outcome.value}"
    if result.tls_reason:
        text += f" ({result.tls_reason})"
    if result.verify_error is not None:
        text += f", {result.verify_error.describe()}"
    elif result.error and not result.tls_reason:
        text += f": {result.error}"
    return text


def _chain_detail(
    chain: tuple[CertificateInfo, ...],
    failed: HandshakeResult | None,
    anchor_label: str,
    completion: ChainCompletion | None = None,
) -> str:
    lines = []
    for i, cert in enumerate(chain):
        lines.append(
            f"[{i}] {cert.subject} (issuer {cert.issuer}; {cert.key_type} {cert.key_bits} bits; "
            f"{cert.signature_algorithm}; valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d})"
        )
    if failed is not None and failed.verify_error is not None:
        lines.append(f"verification: {failed.verify_error.describe()}")
    if anchor_label:
        lines.append(f"trusted through: {anchor_label}")
    if completion is not None:
        got = f"HTTP {completion.fetched.status}" if completion.fetched.status else completion.fetched.error
        outcome = (
            f"it completes the chain ({completion.issuer})"
            if completion.completes
            else completion.detail or completion.fetched.error
        )
        lines.append(
            f"issuer's certificate not sent; fetched from {completion.url}: {got} "
            f"in {completion.fetched.elapsed_ms:.0f} ms; {outcome}"
        )
    return "\n".join(lines)


def _verify_detail(result: HandshakeResult) -> str:
    return result.verify_error.describe() if result.verify_error else result.error


def _http_detail(answer: HttpResult) -> str:
    if answer.outcome is HttpOutcome.ANSWERED:
        server = f", server {answer.server}" if answer.server else ""
        page = f"; the page says: {answer.text}" if answer.text else ""
        return f"HTTP {answer.status} {answer.reason}{server} in {answer.elapsed_ms:.0f} ms{page}"
    return f"{answer.outcome.value}: {answer.error}"


__all__ = [
    "ProbeSet",
    "TlsVersion",
    "acceptable_client_cas",
    "certificate_findings",
    "client_cert_findings",
    "client_cert_state",
    "dns_findings",
    "http_findings",
    "protocol_findings",
    "tcp_findings",
]
