"""Certificate authorities as the internet runs them, on 127.0.0.1: their lists of withdrawn certificates (CRLs)
served by nginx, their OCSP responder (``openssl ocsp``), sites whose certificates name them (nginx, one of them
stapling an OCSP answer), an address that refuses connections and one that never answers; and sites served by
nginx with its clock shifted by libfaketime (the clock tests).

The authority is a root with an intermediate ("issuing") under it, as public authorities are: a leaf is asked
about at its OCSP responder (or its list), the intermediate at the root's list.

The Windows lane (``tests/windows/lane.py``) starts this lab on the Linux side, where nginx and OpenSSL run, and
the tests under Wine attach to it: :meth:`AuthorityLab.save` writes what they need into the lab's folder, and
:meth:`AuthorityLab.attach` reads it back (``$TLS_READINESS_AUTHORITY_LAB`` names the folder).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

from app.core.addresses import parse_address
from app.core.model import Target
from app.core.tls_contexts import TrustAnchors
from app.lab.pki import Authority, Issued
from tests.real_servers.stacks import find_program, free_ports, stop_processes

LAB_ENV = "TLS_READINESS_AUTHORITY_LAB"  # set by the Windows lane: the folder of a lab started on the Linux side
MANIFEST = "manifest.json"
SHIFTED = {"ahead": "+2d", "behind": "-2d", "slightly": "+3m"}  # sites whose nginx runs with this clock


def missing() -> str:
    """Why this lab cannot run here ("" when it can)."""
    if os.environ.get(LAB_ENV):
        return ""
    absent = [p for p in ("nginx", "openssl", "faketime") if not find_program(p)]
    return f"not installed: {', '.join(absent)} (scripts/setup --test installs them)" if absent else ""


def _key_pem(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _openssl_date(when: dt.datetime) -> str:
    return when.strftime("%y%m%d%H%M%SZ")


def _openssl_subject(cert: x509.Certificate) -> str:
    return "/" + "/".join(a.rfc4514_string() for a in reversed(list(cert.subject)))


def _restored(cert: x509.Certificate, key: object, parent: Authority | None) -> Authority:
    """An Authority made again from its certificate and key (the lab's folder), without issuing a new one."""
    authority = Authority.__new__(Authority)
    authority.cert, authority.key, authority.parent = cert, key, parent  # type: ignore[assignment]
    authority.revoked = {}
    return authority


@dataclass
class Site:
    name: str
    issued: Issued
    staple: bool = False
    clock: str = ""  # libfaketime's offset for the nginx that serves it ("" for the real time)


class AuthorityLab:
    """The authorities, the sites, nginx (three of them with shifted clocks), ``openssl ocsp``, a refusing port
    and a silent one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        ports = iter(free_ports(32))
        self.web_port, self.ocsp_port = next(ports), next(ports)
        self._refusing: socket.socket | None = socket.socket()
        self._refusing.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self._silent: socket.socket | None = socket.socket()
        self._silent.bind(("127.0.0.1", 0))
        self._silent.listen(64)  # accepted by the kernel, never read: no answer, ever
        self.refused_port = self._refusing.getsockname()[1]
        self.silent_port = self._silent.getsockname()[1]
        web = f"http://127.0.0.1:{self.web_port}"
        responder = f"http://127.0.0.1:{self.ocsp_port}"
        refused = f"http://127.0.0.1:{self.refused_port}"
        silent = f"http://127.0.0.1:{self.silent_port}"
        now = dt.datetime.now(dt.UTC)
        month_ago = now - dt.timedelta(days=30)  # valid at the shifted servers' times too
        self.root = Authority("Revocation Test Root", rsa.generate_private_key(65537, 2048), not_before=month_ago)
        self.issuing = Authority(
            "Revocation Test Issuing CA",
            ec.generate_private_key(ec.SECP256R1()),
            parent=self.root,
            crl_url=f"{web}/root.crl",
            not_before=month_ago,
        )
        issue = self.issuing.issue
        days = dt.timedelta(days=1)
        self.sites = [
            Site("good", issue(ocsp_url=f"{responder}/", crl_url=f"{web}/issuing.crl")),
            Site("good-2", issue(ocsp_url=f"{responder}/", crl_url=f"{web}/issuing.crl")),
            Site("revoked", issue(ocsp_url=f"{responder}/", crl_url=f"{web}/issuing.crl")),
            Site("crl-good", issue(crl_url=f"{web}/issuing.crl")),
            Site("crl-revoked", issue(crl_url=f"{web}/issuing.crl")),
            Site("refused", issue(ocsp_url=f"{refused}/", crl_url=f"{refused}/issuing.crl")),
            Site("silent", issue(ocsp_url=f"{silent}/", crl_url=f"{silent}/issuing.crl")),
            Site("stapled", issue(ocsp_url=f"{refused}/"), staple=True),
            Site("long-address", issue(ocsp_url=f"{responder}/{'responder/' * 20}")),  # too long for GET
            Site("via-localhost", issue(ocsp_url=f"http://localhost:{self.ocsp_port}/")),  # the proxy refuses it
            Site("none-named", issue()),
            # The clock: certificates valid for one day from an hour ago (a clock 2 days off sees them outside
            # their dates), and sites whose servers' clocks are off, with certificates valid at their time.
            Site("short-lived", issue(not_before=now - dt.timedelta(hours=1), not_after=now + days)),
            Site("short-lived-2", issue(not_before=now - dt.timedelta(hours=1), not_after=now + days)),
            Site("expired", issue(not_before=now - 3 * days, not_after=now - days)),
            Site("ahead", issue(not_before=now + days, not_after=now + 3 * days), clock=SHIFTED["ahead"]),
            Site("behind", issue(not_before=now - 3 * days, not_after=now - days), clock=SHIFTED["behind"]),
            Site("slightly", issue(), clock=SHIFTED["slightly"]),
        ]
        self.site = {s.name: s for s in self.sites}
        for name in ("revoked", "crl-revoked"):
            self.issuing.revoke(self.site[name].issued.cert)
        self.ports = {s.name: next(ports) for s in self.sites}
        self.processes: list[subprocess.Popen[bytes]] = []
        self._write()

    @property
    def anchors(self) -> TrustAnchors:
        return TrustAnchors.from_pem("revocation test root", self.root.pem)

    def _write(self) -> None:
        f = self.folder
        (f / "www").mkdir()
        (f / "www" / "root.crl").write_bytes(self.root.crl())
        (f / "www" / "issuing.crl").write_bytes(self.issuing.crl())
        (f / "root.pem").write_text(self.root.pem)
        (f / "root.key").write_bytes(_key_pem(self.root.key))
        (f / "issuing.pem").write_text(self.issuing.pem)
        (f / "issuing.key").write_bytes(_key_pem(self.issuing.key))
        lines = []
        for site in self.sites:
            cert = site.issued.cert
            when = self.issuing.revoked.get(cert.serial_number)
            status, revoked_on = ("R", _openssl_date(when)) if when else ("V", "")
            expiry = _openssl_date(cert.not_valid_after_utc)
            serial = f"{cert.serial_number:X}"
            serial = serial if len(serial) % 2 == 0 else "0" + serial
            fields = [status, expiry, revoked_on, serial, "unknown", _openssl_subject(cert)]
            lines.append("\t".join(fields))
            (f / f"{site.name}.pem").write_bytes(site.issued.cert_pem())
            (f / f"{site.name}.key").write_bytes(_key_pem(site.issued.key))
            if site.staple:
                (f / f"{site.name}.ocsp").write_bytes(self.good_answer(cert))
        (f / "index.txt").write_text("\n".join(lines) + "\n")
        (f / "index.txt.attr").write_text("unique_subject = no\n")  # every site is "localhost"

    def good_answer(
        self,
        cert: x509.Certificate,
        signer: Authority | None = None,
        age: dt.timedelta = dt.timedelta(minutes=1),
        lasting: dt.timedelta | None = dt.timedelta(hours=6),
    ) -> bytes:
        """A signed "good" OCSP answer from the issuing authority (what the stapling server sends), or signed by
        ``signer`` instead (a forgery); made ``age`` ago, valid for ``lasting`` (None: it names no end)."""
        signer = signer or self.issuing
        made = dt.datetime.now(dt.UTC) - age
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.issuing.cert,
                algorithm=hashes.SHA1(),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=made,
                next_update=made + lasting if lasting is not None else None,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, signer.cert)
        )
        return builder.sign(signer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    # ---- running -------------------------------------------------------------------------------------------

    def start(self) -> AuthorityLab:
        f = self.folder
        web = f"server {{ listen 127.0.0.1:{self.web_port}; root {f / 'www'}; access_log {f / 'access.log'}; }}"
        self._nginx("nginx", [web, *(self._site_config(s) for s in self.sites if not s.clock)])
        for clock in sorted({s.clock for s in self.sites if s.clock}):
            sites = [self._site_config(s) for s in self.sites if s.clock == clock]
            self._nginx(f"nginx{clock}", sites, clock=clock)
        responder = f"ocsp -index {f}/index.txt -port {self.ocsp_port} -nmin 60 -ignore_err"
        key = f"-rsigner {f}/issuing.pem -rkey {f}/issuing.key -CA {f}/issuing.pem"
        self._spawn(["openssl", *responder.split(), *key.split()], "ocsp.log")
        # openssl ocsp (3.0) stops answering after a connection that sends nothing: it is not probed, its log
        # says when it listens.
        self._wait([self.web_port, *self.ports.values()], log=f / "ocsp.log", ready="waiting for OCSP client")
        return self

    def _site_config(self, site: Site) -> str:
        f = self.folder
        staple = f"ssl_stapling on; ssl_stapling_file {f / site.name}.ocsp;" if site.staple else ""
        return (
            f"server {{ listen 127.0.0.1:{self.ports[site.name]} ssl; ssl_certificate {f / site.name}.pem; "
            f"ssl_certificate_key {f / site.name}.key; {staple} access_log off; "
            f"location / {{ return 200 'authority lab {site.name}\\n'; }} }}"
        )

    def _nginx(self, name: str, servers: list[str], clock: str = "") -> None:
        f = self.folder
        program = find_program("nginx")
        assert program, missing()
        temp = " ".join(f"{k}_temp_path {f}/{name}-{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # nginx gives its workers an empty environment, and libfaketime reads its settings again every 10 s:
        # without these the workers' clock would come back to the real time after 10 s.
        keep = "".join(f"env {v};\n" for v in ("FAKETIME", "FAKETIME_SHARED", "FAKETIME_DONT_FAKE_MONOTONIC"))
        (f / f"{name}.conf").write_text(
            # As root, nginx's worker would run as "nobody", who cannot read a test's temporary folder.
            ("user root;\n" if os.geteuid() == 0 else "")
            + (keep if clock else "")
            + f"worker_processes 1; pid {f}/{name}.pid; error_log {f}/{name}-error.log info;\n"
            f"events {{ worker_connections 256; }}\nhttp {{ {temp}\n" + "\n".join(servers) + "\n}\n"
        )
        args = [program, "-p", str(f), "-c", str(f / f"{name}.conf"), "-g", "daemon off;"]
        if clock:  # its Date headers say that time; the monotonic clock stays true (nginx's timers)
            args = ["faketime", "-f", clock, *args]
        self._spawn(args, f"{name}.log", env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"})

    def _spawn(self, args: list[str], log: str, env: dict[str, str] | None = None) -> None:
        with (self.folder / log).open("wb") as out:
            self.processes.append(
                subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=self.folder, env=env)
            )

    def _wait(self, ports: list[int], log: Path, ready: str) -> None:
        deadline = time.monotonic() + 20
        while ready not in log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{log.name} does not say {ready!r}: {log.read_text(errors='replace')}")
            time.sleep(0.05)
        for port in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                        logs = {p.name: p.read_text(errors="replace")[-800:] for p in self.folder.glob("*.log")}
                        raise RuntimeError(f"the servers did not start: {logs}") from None
                    time.sleep(0.05)
        time.sleep(0.2)  # a server that could not open all its ports gives up after trying
        dead = [p.args for p in self.processes if p.poll() is not None]
        if dead:
            logs = {p.name: p.read_text(errors="replace")[-800:] for p in self.folder.glob("*.log")}
            raise RuntimeError(f"servers stopped after starting: {dead}: {logs}")

    def stop(self) -> None:
        stop_processes(self.processes)
        for sock in (self._refusing, self._silent):
            if sock is not None:
                sock.close()

    # ---- shared with the tests under Wine ----------------------------------------------------------------

    def save(self) -> None:
        """Write what :meth:`attach` needs (the keys are already in the folder, as the servers read them)."""
        manifest = {
            "web_port": self.web_port,
            "ocsp_port": self.ocsp_port,
            "refused_port": self.refused_port,
            "silent_port": self.silent_port,
            "ports": self.ports,
            "sites": [{"name": s.name, "staple": s.staple, "clock": s.clock} for s in self.sites],
            "revoked": {str(k): v.isoformat() for k, v in self.issuing.revoked.items()},
        }
        (self.folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    @classmethod
    def attach(cls, folder: Path) -> AuthorityLab:
        """The lab another process started and saved in ``folder`` (it is running: nothing is started)."""
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        lab = cls.__new__(cls)
        lab.folder = folder
        lab.web_port, lab.ocsp_port = manifest["web_port"], manifest["ocsp_port"]
        lab.refused_port, lab.silent_port = manifest["refused_port"], manifest["silent_port"]
        lab._refusing = lab._silent = None
        lab.processes = []

        def loaded(name: str) -> tuple[list[x509.Certificate], object]:
            certs = x509.load_pem_x509_certificates((folder / f"{name}.pem").read_bytes())
            key = serialization.load_pem_private_key((folder / f"{name}.key").read_bytes(), None)
            return certs, key

        root_certs, root_key = loaded("root")
        lab.root = _restored(root_certs[0], root_key, None)
        issuing_certs, issuing_key = loaded("issuing")
        lab.issuing = _restored(issuing_certs[0], issuing_key, lab.root)
        lab.issuing.revoked = {int(k): dt.datetime.fromisoformat(v) for k, v in manifest["revoked"].items()}
        lab.sites = []
        for entry in manifest["sites"]:
            certs, key = loaded(entry["name"])
            issued = Issued(certs[0], key, tuple(certs[1:]))  # type: ignore[arg-type]
            lab.sites.append(Site(entry["name"], issued, entry["staple"], entry["clock"]))
        lab.site = {s.name: s for s in lab.sites}
        lab.ports = {k: int(v) for k, v in manifest["ports"].items()}
        return lab

    # ---- for the tests -------------------------------------------------------------------------------------

    def target(self, name: str, host: str = "localhost", **fields: object) -> Target:
        address = parse_address(f"https://{host}:{self.ports[name]}/")
        return Target(name, name, address, **{"anchors": self.anchors, **fields})  # type: ignore[arg-type]

    def url(self, name: str) -> str:
        return f"https://localhost:{self.ports[name]}/"

    def fetched(self, path: str) -> int:
        """How many times nginx served ``path`` (from its access log)."""
        log = self.folder / "access.log"
        return sum(f"GET {path} " in line for line in log.read_text().splitlines()) if log.exists() else 0
