"""nginx, Apache httpd, ``openssl s_server`` and JSSE, each serving the sites it can (one port per site).

Each stack writes its configuration into its own folder, starts the real program in the foreground (so its
process id is ours to stop), waits until every port answers, and is stopped by process id.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from tests.real_servers.sites import LEGACY_CIPHERS, PASSWORD, SITES, ClientAuth, RealPki, Site

JSSE_SERVER = Path(__file__).with_name("JsseServer.java")


def _below_ephemeral() -> range:
    """The ports below the range the system hands out to outgoing connections and to ``bind(0)``: a port found
    free there is not taken a moment later by some other program's connection (which did happen, to nginx, in
    CI's Windows lane, with ports asked of the system)."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(20000, max(low, 20001))


_handed_out: set[int] = set()  # by this process: never twice, though a server has stopped since


def free_ports(n: int) -> list[int]:
    """``n`` different ports on 127.0.0.1 that are free now, picked at random below the ephemeral range."""
    candidates = _below_ephemeral()
    chosen: list[int] = []
    while len(chosen) < n:
        port = random.choice(candidates)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        chosen.append(port)
    return chosen


def free_port() -> int:
    return free_ports(1)[0]


class StackUnavailable(Exception):
    """The program is not installed here (the test is then skipped, saying which)."""


class Stack:
    """One server program serving several sites."""

    name = ""

    def __init__(self, pki: RealPki, folder: Path) -> None:
        self.pki = pki
        self.folder = folder / self.name
        self.folder.mkdir()
        self.ports: dict[str, int] = {}
        self.processes: list[subprocess.Popen[bytes]] = []

    def supports(self, site: Site) -> bool:
        """Whether this program can be set up the way the site says."""
        raise NotImplementedError

    def start(self, sites: Sequence[Site] = SITES) -> Stack:
        """Start serving every supported site; raises StackUnavailable when the program is missing."""
        for site in sites:
            if self.supports(site):
                self.ports[site.name] = free_port()
        self._start([s for s in sites if s.name in self.ports])
        self._wait_for_ports()
        return self

    def _start(self, sites: list[Site]) -> None:
        raise NotImplementedError

    def _spawn(self, args: Sequence[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.folder / log_name).open("wb")
        proc = subprocess.Popen(
            list(args), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, env=env
        )
        log.close()
        self.processes.append(proc)
        return proc

    def _wait_for_ports(self, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        waiting = dict(self.ports)
        while waiting:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {proc.returncode}: {self.log_tail()}")
            for name, port in list(waiting.items()):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    del waiting[name]
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not open {sorted(waiting)} in {seconds:.0f} s: {self.log_tail()}")
            if waiting:
                time.sleep(0.05)

    def log_tail(self) -> str:
        text = []
        for log in sorted(self.folder.glob("*.log")):
            text.append(f"--- {log.name}\n" + log.read_text(errors="replace")[-2000:])
        return "\n".join(text)

    def url(self, site: str, host: str = "localhost", path: str = "/") -> str:
        """The address the checker is given for a site."""
        return f"https://{host}:{self.ports[site]}{path}"

    def stop(self) -> None:
        """Stop every process this stack started, by process id."""
        stop_processes(self.processes)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """Stop processes by their id: asked first (SIGTERM), killed after 10 s."""
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def find_program(program: str) -> str | None:
    """Where a program is installed (its PATH, or the folders Debian puts servers in when PATH lacks them)."""
    return shutil.which(program) or next(
        (p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}") if os.path.exists(p)), None
    )


def _need(program: str) -> str:
    found = find_program(program)
    if not found:
        raise StackUnavailable(f"{program} is not installed (scripts/setup --test installs it)")
    return found


# ---- nginx ---------------------------------------------------------------------------------------------------------


class Nginx(Stack):
    """nginx (Debian's nginx-light). Its client-certificate check is always at the HTTP level: with
    ``ssl_verify_client on`` the handshake completes and a missing or untrusted certificate gets a 400 page."""

    name = "nginx"

    def supports(self, site: Site) -> bool:
        return site.client_auth in (ClientAuth.NONE, ClientAuth.HTTP) or site.status == 403

    def _start(self, sites: list[Site]) -> None:
        nginx = _need("nginx")
        f = self.folder
        servers = []
        for site in sites:
            port = self.ports[site.name]
            if site.plain:
                servers.append(f"server {{ listen 127.0.0.1:{port}; location / {{ return 200 'plain\\n'; }} }}")
                continue
            tls = [
                f"ssl_certificate {self.pki.cert_file(site)};",
                f"ssl_certificate_key {self.pki.key_file(site)};",
                f"ssl_protocols {' '.join(site.versions)};",
            ]
            if site.ciphers:
                tls.append(f"ssl_ciphers {site.ciphers};")
            if site.client_auth is not ClientAuth.NONE or site.status == 403:
                tls += [f"ssl_client_certificate {self.pki.folder / 'client-ca.pem'};", "ssl_verify_client on;"]
            body = "\n    ".join(tls)
            answer = f"location = / {{ return {site.status} 'nginx {site.name}\\n'; }} location / {{ return 404; }}"
            if site.sni_only:  # a default server that refuses handshakes naming no known server
                servers.append(f"server {{ listen 127.0.0.1:{port} ssl default_server; ssl_reject_handshake on; }}")
                servers.append(
                    f"server {{ listen 127.0.0.1:{port} ssl; server_name localhost;\n    {body}\n    {answer} }}"
                )
            else:
                servers.append(f"server {{ listen 127.0.0.1:{port} ssl;\n    {body}\n    {answer} }}")
        temp = " ".join(f"{k}_temp_path {f}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = f"""worker_processes 1;
pid {f}/nginx.pid;
error_log {f}/error.log info;
events {{ worker_connections 512; }}
http {{
  access_log off;
  {temp}
  {chr(10).join(servers)}
}}
"""
        (f / "nginx.conf").write_text(conf)
        self._spawn([nginx, "-p", str(f), "-c", str(f / "nginx.conf"), "-g", "daemon off;"], "stdout.log")


# ---- Apache httpd --------------------------------------------------------------------------------------------------


class Apache(Stack):
    """Apache httpd 2.4 with mod_ssl. ``SSLVerifyClient require`` on the virtual host is checked in the
    handshake; inside a ``<Location>`` it is asked for only after the request (TLS 1.2 renegotiation)."""

    name = "apache"
    MODULES = ("mpm_event", "authz_core", "ssl", "socache_shmcb", "dir")

    def supports(self, site: Site) -> bool:
        return site.client_auth is not ClientAuth.HTTP

    def _start(self, sites: list[Site]) -> None:
        apache = _need("apache2")
        f = self.folder
        www = f / "www"
        www.mkdir()
        (www / "index.html").write_text("apache\n")
        lines = [f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so" for m in self.MODULES]
        lines += [
            f"ServerRoot {f}",
            f"PidFile {f}/httpd.pid",
            f"ErrorLog {f}/error.log",
            "LogLevel info ssl:info",
            f"DefaultRuntimeDir {f}",
            f"Mutex file:{f} default",
            f"SSLSessionCache shmcb:{f}/scache(512000)",
            "ServerName localhost",
            f"DocumentRoot {www}",
            "DirectoryIndex index.html",
            f"<Directory {www}>\n  Require all granted\n</Directory>",
        ]
        for site in sites:
            port = self.ports[site.name]
            lines.append(f"Listen 127.0.0.1:{port}")
            if site.sni_only:  # the first (default) host of the port takes what names no host: refuse it
                lines += [
                    f"<VirtualHost 127.0.0.1:{port}>",
                    "  ServerName default.invalid",
                    "  SSLEngine on",
                    f"  SSLCertificateFile {self.pki.cert_file(site)}",
                    f"  SSLCertificateKeyFile {self.pki.key_file(site)}",
                    "  SSLStrictSNIVHostCheck on",
                    "</VirtualHost>",
                ]
            vhost = [f"<VirtualHost 127.0.0.1:{port}>", "  ServerName localhost"]
            if site.sni_only:
                vhost.append("  SSLStrictSNIVHostCheck on")
            if not site.plain:
                protocols = " ".join("+" + v for v in site.versions)
                vhost += [
                    "  SSLEngine on",
                    f"  SSLCertificateFile {self.pki.cert_file(site)}",
                    f"  SSLCertificateKeyFile {self.pki.key_file(site)}",
                    f"  SSLProtocol -all {protocols}",
                ]
                if site.ciphers:
                    vhost.append(f"  SSLCipherSuite {site.ciphers}")
                if site.ciphers == LEGACY_CIPHERS:
                    vhost.append("  SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256")
                if site.client_auth is not ClientAuth.NONE:
                    vhost += [f"  SSLCACertificateFile {self.pki.folder / 'client-ca.pem'}", "  SSLVerifyDepth 2"]
                if site.client_auth is ClientAuth.REQUIRE:
                    vhost.append("  SSLVerifyClient require")
                if site.client_auth is ClientAuth.LATER:
                    vhost.append("  <Location />\n    SSLVerifyClient require\n  </Location>")
            if site.status == 403:
                vhost.append("  <Location />\n    Require all denied\n  </Location>")
            vhost.append("</VirtualHost>")
            lines += vhost
        (f / "httpd.conf").write_text("\n".join(lines) + "\n")
        self._spawn([apache, "-f", str(f / "httpd.conf"), "-DFOREGROUND"], "stdout.log")


# ---- openssl s_server ----------------------------------------------------------------------------------------------


class OpenSslServer(Stack):
    """``openssl s_server -www``: one process per site, answering ``GET`` with its status page. ``-Verify``
    makes the handshake fail without a trusted client certificate."""

    name = "s_server"

    def supports(self, site: Site) -> bool:
        allowed = site.client_auth in (ClientAuth.NONE, ClientAuth.REQUIRE) and site.status == 200
        return allowed and not site.plain and not site.sni_only  # s_server answers a handshake without a name

    def _start(self, sites: list[Site]) -> None:
        openssl = _need("openssl")
        for site in sites:
            args = [
                openssl,
                "s_server",
                "-accept",
                f"127.0.0.1:{self.ports[site.name]}",
                "-cert",
                str(self.pki.folder / f"{site.cert}-leaf_only.pem"),
                "-key",
                str(self.pki.key_file(site)),
                "-www",
                "-quiet",
            ]
            if site.chain.value != "leaf_only":
                args += ["-cert_chain", str(self.pki.folder / f"{site.cert}-intermediates.pem")]
                if site.chain.value == "with_root":
                    args += ["-build_chain", "-chainCAfile", str(self.pki.folder / f"{site.cert}-intermediates.pem")]
            if site.versions == ("TLSv1",):
                args.append("-tls1")
            else:
                args += [
                    flag for v, flag in (("TLSv1.2", "-no_tls1_2"), ("TLSv1.3", "-no_tls1_3")) if v not in site.versions
                ]
            if site.ciphers:
                args += ["-cipher", site.ciphers]
            if site.client_auth is ClientAuth.REQUIRE:
                args += ["-Verify", "2", "-CAfile", str(self.pki.folder / "client-ca.pem"), "-verify_return_error"]
            self._spawn(args, f"{site.name}.log")


# ---- Java (JSSE) ---------------------------------------------------------------------------------------------------


class Jsse(Stack):
    """A small HTTPS server on Java's own TLS (``JsseServer.java``): need-client-auth in the handshake,
    renegotiation after the request (TLS 1.2), and IIS's HTTP answers (403.7, 403.16) for the HTTP level."""

    name = "jsse"

    def supports(self, site: Site) -> bool:
        return not site.plain and not site.sni_only and "TLSv1" not in site.versions

    def _start(self, sites: list[Site]) -> None:
        java = _need("java")
        lines = []
        for site in sites:
            lines.append(
                "\t".join(
                    [
                        "site",
                        site.name,
                        str(self.ports[site.name]),
                        str(self.pki.keystore(site)),
                        ",".join(site.versions),
                        _java_ciphers(site.ciphers),
                        site.client_auth.value,
                        str(site.status),
                    ]
                )
            )
        config = self.folder / "sites.tsv"
        config.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "JSSE_PASSWORD": PASSWORD}
        self._spawn(
            [
                java,
                "-Xshare:auto",
                "-XX:TieredStopAtLevel=1",
                str(JSSE_SERVER),
                str(config),
                str(self.pki.folder / "client-ca.pem"),
            ],
            "stdout.log",
            env=env,
        )


def _java_ciphers(openssl_list: str) -> str:
    return {"AES256-GCM-SHA384": "TLS_RSA_WITH_AES_256_GCM_SHA384"}.get(openssl_list, "")


STACKS: tuple[type[Stack], ...] = (Nginx, Apache, OpenSslServer, Jsse)
