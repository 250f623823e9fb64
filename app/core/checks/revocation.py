"""Has the server's certificate been withdrawn (revoked)? What Windows asks before it trusts a server.

Windows' TLS (SChannel: the ADS client, .NET programs, curl.exe) asks, for the server's certificate and each
authority above it, the addresses the certificate names: an OCSP responder (a short signed answer about one
certificate) and a CRL distribution point (a signed list of every withdrawn certificate). Company firewalls and
proxies often block those addresses, and the Windows program then fails with CRYPT_E_REVOCATION_OFFLINE or is
very slow. This module asks them the same way (through the proxy in use, within the step's time limit) and
checks every answer's signature and dates.

One :class:`RevocationChecker` serves a whole run: answers are cached by certificate and lists by address, so
twenty addresses behind one authority cost one request, and at most two connections at once go to each of these
servers. Revocation never replaces certificate verification: it is asked only about a chain that verified.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from app.core.der import serial_of, tolerant_x509
from app.core.fetch import Fetched, fetch
from app.core.net import Budget, CancelFlag, ServerSlots, wait_for
from app.core.proxy import ProxySettings

CONNECTIONS_PER_SERVER = 2  # these are other organisations' servers: two at once, as Windows itself uses
MAX_CRL_BYTES = 20 * 1024 * 1024  # the largest public lists are a few megabytes
MAX_OCSP_BYTES = 64 * 1024
GET_LIMIT = 255  # RFC 5019: GET when the whole address stays under 255 bytes, else POST
CLOCK_SLACK = dt.timedelta(minutes=5)  # answers dated a little in the future are accepted, as Windows does
MAX_AGE_WITHOUT_NEXT_UPDATE = dt.timedelta(days=7)  # an answer that names no end is not trusted for longer
OCSP_REQUEST = "application/ocsp-request"
_WHEN = "%Y-%m-%d %H:%M UTC"


class RevocationStatus(StrEnum):
    """What is known about one certificate."""

    GOOD = "good"  # a signed, current answer says it is not withdrawn
    REVOKED = "revoked"  # a signed, current answer says it was withdrawn
    UNKNOWN = "unknown"  # the responder answered, but does not know this certificate
    UNREACHABLE = "unreachable"  # no usable answer from any of its addresses
    NOT_NAMED = "not_named"  # the certificate names no address to ask


@dataclass(frozen=True)
class Attempt:
    """One question to one address.

    Attributes:
        url: the address asked.
        method: ``OCSP GET``, ``OCSP POST``, ``CRL`` or ``stapled`` (the answer the server sent itself).
        answer: what came of it: ``good``, ``revoked``, ``unknown``, or what was wrong (technical words).
        usable: True when the answer settled the question (good or revoked, signed and current).
        how: for an address that could not be asked, how, in words for an IT department ("the connection
            was refused", "blocked by the proxy (answer 403)"); empty when it answered.
        elapsed_ms: how long it took.
    """

    url: str
    method: str
    answer: str
    usable: bool = False
    how: str = ""
    elapsed_ms: float = 0.0

    def line(self) -> str:
        """One line for the details."""
        took = f" in {self.elapsed_ms:.0f} ms" if self.method != "stapled" else ""
        return f"{self.method} {self.url}: {self.answer}{took}"


@dataclass(frozen=True)
class CertRevocation:
    """What is known about one certificate of the chain.

    Attributes:
        subject: the certificate's subject.
        status: good, revoked, unknown, unreachable, or no address named.
        source: where the answer came from (``ocsp``, ``crl``, ``stapled``), when there is one.
        revoked_on: when it was withdrawn (revoked certificates).
        reason: the reason its issuer gave, when it gave one (``keyCompromise``).
        attempts: every question asked, in order.
    """

    subject: str
    status: RevocationStatus
    source: str = ""
    revoked_on: dt.datetime | None = None
    reason: str = ""
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class RevocationResult:
    """The chain's revocation status, leaf first (the root is not asked about: nothing above it answers).

    Attributes:
        certificates: one entry per certificate asked about.
        stapled: True when the server sent a revocation answer for its own certificate in the handshake.
    """

    certificates: tuple[CertRevocation, ...]
    stapled: bool = False

    @property
    def revoked(self) -> CertRevocation | None:
        """The first withdrawn certificate, if any."""
        return next((c for c in self.certificates if c.status is RevocationStatus.REVOKED), None)

    @property
    def unanswered(self) -> tuple[CertRevocation, ...]:
        """The certificates whose addresses gave no usable answer."""
        return tuple(
            c for c in self.certificates if c.status in (RevocationStatus.UNREACHABLE, RevocationStatus.UNKNOWN)
        )

    @property
    def failed_attempts(self) -> tuple[Attempt, ...]:
        """Every address that gave no usable answer about a certificate left unanswered, once each (for the
        words: what IT must allow through)."""
        seen: dict[str, Attempt] = {}
        for cert in self.unanswered:
            for attempt in cert.attempts:
                if not attempt.usable and attempt.method != "stapled" and attempt.url not in seen:
                    seen[attempt.url] = attempt
        return tuple(seen.values())

    def lines(self) -> Iterator[str]:
        """The details: each certificate, then each question asked about it."""
        for cert in self.certificates:
            yield f"{cert.subject}: {cert.status.value}" + (f" ({cert.source})" if cert.source else "")
            for attempt in cert.attempts:
                yield f"  {attempt.line()}"


def revocation_addresses(cert: x509.Certificate) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The OCSP responders and CRL distribution points a certificate names (``http://`` ones, as Windows
    uses; LDAP addresses are left out)."""
    responders: list[str] = []
    lists: list[str] = []
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        responders = [
            str(d.access_location.value)
            for d in access
            if d.access_method == AuthorityInformationAccessOID.OCSP
            and isinstance(d.access_location, x509.UniformResourceIdentifier)
        ]
    except (x509.ExtensionNotFound, ValueError):
        pass
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        for point in points:
            for name in point.full_name or ():
                if isinstance(name, x509.UniformResourceIdentifier):
                    lists.append(str(name.value))
    except (x509.ExtensionNotFound, ValueError):
        pass
    http = [u for u in (*responders, *lists) if u.lower().startswith("http://")]
    return (
        tuple(dict.fromkeys(u for u in responders if u in http)),
        tuple(dict.fromkeys(u for u in lists if u in http)),
    )


def ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """A DER OCSP request for ``cert`` (SHA-1 certificate id, no nonce: what Windows sends)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303 - the standard id
    return builder.build().public_bytes(serialization.Encoding.DER)


def ocsp_get_url(responder: str, request: bytes) -> str | None:
    """The GET form of a request (RFC 5019), or None when it would be too long (then POST)."""
    encoded = quote(base64.b64encode(request).decode("ascii"), safe="")
    url = responder.rstrip("/") + "/" + encoded
    return url if len(url) < GET_LIMIT else None


def _verify_signature(public_key: object, signature: bytes, data: bytes, hash_alg: hashes.HashAlgorithm | None) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` over ``data`` is the key's."""
    if isinstance(public_key, rsa.RSAPublicKey) and hash_alg is not None:
        public_key.verify(signature, data, padding.PKCS1v15(), hash_alg)
    elif isinstance(public_key, ec.EllipticCurvePublicKey) and hash_alg is not None:
        public_key.verify(signature, data, ec.ECDSA(hash_alg))
    elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public_key.verify(signature, data)
    else:
        raise InvalidSignature("a kind of signature this program cannot check")


def _key_hash(cert: x509.Certificate) -> bytes:
    """SHA-1 of the certificate's public key bits (how OCSP names a responder by key); empty for a key of a kind
    this program cannot read (it then names nothing)."""
    try:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    except (UnsupportedAlgorithm, ValueError, TypeError):
        return b""


def _responder(response: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime) -> x509.Certificate | str:
    """The certificate that signed the answer: the issuer itself, or one the issuer delegated to (RFC 6960
    4.2.2.2), valid now. A string says why there is none."""

    def named(cert: x509.Certificate) -> bool:
        if response.responder_name is not None:
            return response.responder_name == cert.subject
        hashed = _key_hash(cert)
        return bool(hashed) and response.responder_key_hash == hashed

    if named(issuer):
        return issuer
    for cert in response.certificates:
        if not named(cert):
            continue
        try:
            cert.verify_directly_issued_by(issuer)
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound, UnsupportedAlgorithm):
            return "the answer is signed by a certificate the authority did not give that right to"
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            return "the answer is signed by a certificate the authority did not give that right to"
        if not cert.not_valid_before_utc - CLOCK_SLACK <= now <= cert.not_valid_after_utc + CLOCK_SLACK:
            return "the answer is signed by a responder certificate that is not valid now"
        return cert
    return "the answer is signed by someone other than the certificate's authority"


@dataclass(frozen=True)
class _Answer:
    status: RevocationStatus
    text: str
    revoked_on: dt.datetime | None = None
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.status in (RevocationStatus.GOOD, RevocationStatus.REVOKED)


def read_ocsp(der: bytes, cert: x509.Certificate, issuer: x509.Certificate, now: dt.datetime) -> _Answer:
    """Check an OCSP answer about ``cert``: well formed, successful, signed by its issuer (or its delegate),
    current, and about this certificate."""
    unreachable = RevocationStatus.UNREACHABLE
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError:
        return _Answer(unreachable, "the answer is not an OCSP response")
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return _Answer(unreachable, f"the responder answered {response.response_status.name.lower()}")
    signer = _responder(response, issuer, now)
    if isinstance(signer, str):
        return _Answer(unreachable, signer)
    try:
        _verify_signature(
            signer.public_key(), response.signature, response.tbs_response_bytes, response.signature_hash_algorithm
        )
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return _Answer(unreachable, "the answer's signature does not verify")
    wanted_name_hash = hashlib.sha1(issuer.subject.public_bytes()).digest()  # noqa: S324 - the OCSP id's hash
    try:
        singles = [s for s in response.responses if isinstance(s.hash_algorithm, hashes.SHA1)]
    except (UnsupportedAlgorithm, ValueError):  # an id hashed in a way this program does not know
        singles = []
    serial = serial_of(cert)
    for single in singles:
        if single.serial_number != serial:
            continue
        if single.issuer_name_hash != wanted_name_hash or single.issuer_key_hash != _key_hash(issuer):
            continue
        if single.this_update_utc > now + CLOCK_SLACK:
            return _Answer(unreachable, f"the answer is dated in the future ({single.this_update_utc:{_WHEN}})")
        if single.next_update_utc is not None and single.next_update_utc < now - CLOCK_SLACK:
            return _Answer(
                unreachable, f"the answer is out of date (valid until {single.next_update_utc:%Y-%m-%d %H:%M})"
            )
        if single.next_update_utc is None and single.this_update_utc < now - MAX_AGE_WITHOUT_NEXT_UPDATE:
            return _Answer(unreachable, f"the answer is old ({single.this_update_utc:%Y-%m-%d}) and says no end")
        status = single.certificate_status
        if status is ocsp.OCSPCertStatus.GOOD:
            return _Answer(RevocationStatus.GOOD, "good")
        if status is ocsp.OCSPCertStatus.REVOKED:
            reason = single.revocation_reason.name if single.revocation_reason is not None else ""
            when = single.revocation_time_utc
            return _Answer(RevocationStatus.REVOKED, f"revoked on {when:%Y-%m-%d}" if when else "revoked", when, reason)
        return _Answer(RevocationStatus.UNKNOWN, "unknown: the responder does not know this certificate")
    return _Answer(unreachable, "the answer is about another certificate")


def load_crl(body: bytes) -> x509.CertificateRevocationList:
    """A CRL, DER or PEM. Raises ``ValueError``."""
    with tolerant_x509():
        if body.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(body)
        return x509.load_der_x509_crl(body)


def read_crl(
    crl: x509.CertificateRevocationList, cert: x509.Certificate, issuer: x509.Certificate, now: dt.datetime
) -> _Answer:
    """Look ``cert`` up in a list its issuer signed and that is current."""
    unreachable = RevocationStatus.UNREACHABLE
    if crl.issuer != issuer.subject:
        return _Answer(unreachable, "the list is another authority's")
    try:
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            return _Answer(unreachable, "the list's signature does not verify")
    except (TypeError, UnsupportedAlgorithm, ValueError):
        return _Answer(unreachable, "the list's signature cannot be checked")
    if crl.last_update_utc > now + CLOCK_SLACK:
        return _Answer(unreachable, f"the list is dated in the future ({crl.last_update_utc:%Y-%m-%d %H:%M})")
    if crl.next_update_utc is not None and crl.next_update_utc < now - CLOCK_SLACK:
        return _Answer(unreachable, f"the list is out of date (valid until {crl.next_update_utc:%Y-%m-%d %H:%M})")
    if crl.next_update_utc is None and crl.last_update_utc < now - MAX_AGE_WITHOUT_NEXT_UPDATE:
        return _Answer(unreachable, f"the list is old ({crl.last_update_utc:%Y-%m-%d}) and says no end")
    entry = crl.get_revoked_certificate_by_serial_number(serial_of(cert))
    if entry is None:
        return _Answer(RevocationStatus.GOOD, f"good (not among {len(crl)} withdrawn certificates)")
    reason = ""
    with contextlib.suppress(x509.ExtensionNotFound, ValueError):
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    when = entry.revocation_date_utc
    return _Answer(RevocationStatus.REVOKED, f"revoked on {when:%Y-%m-%d}", when, reason)


def _server_key(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        return (parts.hostname or url, parts.port or 80)
    except ValueError:
        return (url, 80)


class RevocationChecker:
    """Answers revocation questions for one run: cached, at most two connections at once per server.

    ``timeout`` is the step's time limit for each request; ``cancel`` is the run's flag. Call :meth:`close`
    when the run is over.
    """

    def __init__(
        self, proxy: ProxySettings | None, cancel: CancelFlag | threading.Event, timeout: float, workers: int = 8
    ) -> None:
        self.proxy = proxy
        self.cancel = cancel
        self.timeout = timeout
        self._slots = ServerSlots(CONNECTIONS_PER_SERVER)
        self._lock = threading.Lock()
        self._certs: dict[bytes, Future[CertRevocation]] = {}
        self._lists: dict[str, Future[Fetched]] = {}
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="revocation")
        self.requests = 0  # how many requests went out (the cache's measure)

    def close(self) -> None:
        """Stop the workers (after the run: nothing waits on them any more)."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check_chain(
        self, chain: tuple[bytes, ...], stapled: bytes = b"", now: Callable[[], dt.datetime] | None = None
    ) -> RevocationResult:
        """The status of each certificate of a verified chain (DER, leaf first, ending at its root), all asked
        at once. ``stapled`` is the OCSP answer the server sent for its own certificate, if any. Raises only
        ``Cancelled``."""
        clock = now or (lambda: dt.datetime.now(dt.UTC))
        try:
            with tolerant_x509():
                certs = [x509.load_der_x509_certificate(der) for der in chain]
        except ValueError:
            return RevocationResult(())
        pairs = [(c, i) for c, i in itertools.pairwise(certs) if c.subject != c.issuer]
        futures = [
            self._certificate(der_of(cert), cert, issuer, stapled if index == 0 else b"", clock)
            for index, (cert, issuer) in enumerate(pairs)
        ]
        return RevocationResult(tuple(self._wait(f) for f in futures), stapled=bool(stapled))

    def _wait(self, future: Future[CertRevocation]) -> CertRevocation:
        return wait_for(future, self.cancel)

    def _certificate(
        self,
        der: bytes,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        stapled: bytes,
        now: Callable[[], dt.datetime],
    ) -> Future[CertRevocation]:
        key = hashlib.sha256(der + stapled).digest()  # the same certificate, stapled differently: asked apart
        with self._lock:
            future = self._certs.get(key)
            if future is None:
                future = self._pool.submit(self._ask, cert, issuer, stapled, now)
                self._certs[key] = future
        return future

    def _ask(
        self, cert: x509.Certificate, issuer: x509.Certificate, stapled: bytes, now: Callable[[], dt.datetime]
    ) -> CertRevocation:
        """OCSP first, then the list, as Windows does; the first usable answer settles it."""
        subject = cert.subject.rfc4514_string()
        attempts: list[Attempt] = []

        def settled(answer: _Answer, source: str) -> CertRevocation:
            return CertRevocation(subject, answer.status, source, answer.revoked_on, answer.reason, tuple(attempts))

        if stapled:
            answer = read_ocsp(stapled, cert, issuer, now())
            attempts.append(Attempt("(in the handshake)", "stapled", answer.text, answer.usable))
            if answer.usable:
                return settled(answer, "stapled")
        responders, lists = revocation_addresses(cert)
        if not responders and not lists:
            return CertRevocation(subject, RevocationStatus.NOT_NAMED, attempts=tuple(attempts))
        unknown: _Answer | None = None
        if responders:
            request = ocsp_request(cert, issuer)
            for responder in responders[:2]:
                get = ocsp_get_url(responder, request)
                fetched = (
                    self._fetch(get, MAX_OCSP_BYTES) if get else self._fetch(responder, MAX_OCSP_BYTES, post=request)
                )
                method = "OCSP GET" if get else "OCSP POST"
                if not fetched.ok:
                    attempts.append(self._failed(responder, method, fetched))
                    continue
                answer = read_ocsp(fetched.body, cert, issuer, now())
                attempts.append(Attempt(responder, method, answer.text, answer.usable, elapsed_ms=fetched.elapsed_ms))
                if answer.usable:
                    return settled(answer, "ocsp")
                if answer.status is RevocationStatus.UNKNOWN:
                    unknown = answer
        for url in lists[:2]:
            fetched = self._crl(url)
            if not fetched.ok:
                attempts.append(self._failed(url, "CRL", fetched))
                continue
            try:
                crl = load_crl(fetched.body)
            except ValueError:
                attempts.append(
                    Attempt(url, "CRL", "the answer is not a revocation list", elapsed_ms=fetched.elapsed_ms)
                )
                continue
            answer = read_crl(crl, cert, issuer, now())
            attempts.append(Attempt(url, "CRL", answer.text, answer.usable, elapsed_ms=fetched.elapsed_ms))
            if answer.usable:
                return settled(answer, "crl")
        return CertRevocation(
            subject, RevocationStatus.UNKNOWN if unknown else RevocationStatus.UNREACHABLE, attempts=tuple(attempts)
        )

    @staticmethod
    def _failed(url: str, method: str, fetched: Fetched) -> Attempt:
        return Attempt(url, method, fetched.error, how=fetched.how, elapsed_ms=fetched.elapsed_ms)

    def _crl(self, url: str) -> Fetched:
        """A list, downloaded once per run whoever asks (it names every withdrawn certificate of its issuer)."""
        with self._lock:
            future = self._lists.get(url)
            owner = future is None
            if future is None:
                future = Future()
                self._lists[url] = future
        if owner:
            try:
                future.set_result(self._fetch(url, MAX_CRL_BYTES))
            except BaseException as exc:
                future.set_exception(exc)
                raise
        return wait_for(future, self.cancel)

    def _fetch(self, url: str, limit: int, post: bytes | None = None) -> Fetched:
        with self._slots.hold(_server_key(url), self.cancel):
            with self._lock:
                self.requests += 1
            return fetch(
                url,
                Budget(self.timeout, self.cancel),
                self.proxy,
                limit,
                post=post,
                content_type=OCSP_REQUEST if post is not None else "",
            )


def der_of(cert: x509.Certificate) -> bytes:
    """A certificate's DER."""
    return cert.public_bytes(serialization.Encoding.DER)
