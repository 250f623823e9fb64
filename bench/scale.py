"""Scale: time and peak memory of one check of many endpoints (25, 50, 100, 200), each its own server.

    .venv/bin/python bench/scale.py [--delay-ms 50] [--counts 25,50,100,200]

The servers (healthy TLS 1.2 and 1.3, the practice lab's certificate) run in their own process, behind the
latency proxy; the check is the command a person runs (``tls-readiness check --url ... --ca-file ...
--skip-java --skip-system-tls``), and its peak memory is the child's maximum resident set size as the kernel
counts it. The engine checks 16 endpoints at once, so time should grow no faster than endpoints / 16.
"""

from __future__ import annotations

import argparse
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CONCURRENCY = 16  # CheckSettings.parallel_endpoints


def serve(count: int, folder: Path) -> None:
    """Run ``count`` TLS servers until stdin closes; print their ports (the CA goes to ``folder``)."""
    from app.lab.pki import LabPki
    from app.lab.server import _context, read_head

    pki = LabPki()
    (folder / "ca.pem").write_text(pki.ca.pem, encoding="ascii")
    context = _context(pki.ca.issue())
    listeners = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        listeners.append(sock)

    def handle(conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            with context.wrap_socket(conn, server_side=True) as tls:
                read_head(tls)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError, ValueError):
            conn.close()

    def accept(sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    for sock in listeners:
        threading.Thread(target=accept, args=(sock,), daemon=True).start()
    print(" ".join(str(s.getsockname()[1]) for s in listeners), flush=True)
    sys.stdin.read()


# Linux counts a parent's memory in its child's peak (the high-water mark survives fork and exec), and this
# benchmark's own process is large (it has drawn windows): so a small helper starts the check and reports the
# check's own peak.
PEAK_HELPER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stderr=subprocess.DEVNULL)
_pid, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(f"{usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def check(ports: list[int], ca: Path) -> tuple[float, int, int]:
    """Seconds, peak memory in bytes, and exit status of one check of every port."""
    command = [sys.executable, "-m", "app", "check", "--ca-file", str(ca), "--skip-java", "--skip-system-tls", "--json"]
    for port in ports:
        command += ["--url", f"https://localhost:{port}/"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_HELPER, *command], cwd=ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    report = json.loads(done.stdout)
    ready = sum(1 for t in report["targets"] if t["verdict"] == "ready")
    if ready != len(ports):
        raise RuntimeError(f"only {ready} of {len(ports)} endpoints were ready")
    return elapsed, peak_kib * 1024, done.returncode


def measure(counts: list[int], delay_ms: float) -> dict[str, object]:
    from environment import latency_proxy

    rows = []
    with tempfile.TemporaryDirectory(prefix="tlsrc-scale-") as work:
        servers = subprocess.Popen(
            [sys.executable, str(Path(__file__)), "--serve", str(max(counts)), "--folder", work],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert servers.stdout is not None
            ports = [int(p) for p in servers.stdout.readline().split()]
            with latency_proxy(ports, delay_ms) as proxied:
                for count in counts:
                    elapsed, peak, _status = check(proxied[:count], Path(work) / "ca.pem")
                    rows.append({"endpoints": count, "seconds": round(elapsed, 3), "peak_bytes": peak})
        finally:
            assert servers.stdin is not None
            servers.stdin.close()
            servers.wait(10)
    base = rows[0]
    for row in rows:
        row["time_ratio"] = round(row["seconds"] / base["seconds"], 2)
        row["work_ratio"] = round(-(-row["endpoints"] // CONCURRENCY) / -(-base["endpoints"] // CONCURRENCY), 2)
    return {"delay_ms": delay_ms, "concurrency": CONCURRENCY, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--counts", default="25,50,100,200")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, Path(args.folder))
        return 0
    print(json.dumps(measure([int(c) for c in args.counts.split(",")], args.delay_ms), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
