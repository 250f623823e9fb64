"""The runner: concurrency, the per-server connection limit, cancel, progress events, failures as values."""

import sys
import threading
import time

import pytest

from app.core.endpoint import CheckFinished, CheckStarted, TargetFinished
from app.core.findings import Check, Code, Verdict
from app.core.model import CheckSettings
from app.core.runner import Run, RunFinished, RunStarted, run_checks
from tests.conftest import target
from tests.servers import server_context


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts connections in /proc/net/tcp")
def test_at_most_six_connections_at_once_to_one_server(server_factory, ca):
    from app.core.model import CONNECTIONS_PER_SERVER

    assert CONNECTIONS_PER_SERVER == 6  # as browsers limit themselves
    server = server_factory(server_context(ca.issue_cert("localhost")), hold=0.15)
    # Three endpoints on the same server: 3 x 6 connections wanted, never more than 6 at once.
    targets = [target(server.url + p, anchors=None) for p in ("a", "b", "c")]
    run_checks(targets, CheckSettings(timeout=5))
    assert server.connections >= 12
    assert server.max_concurrent <= 6, server.max_concurrent
    assert server.max_concurrent >= 4  # and the limit is actually used


def test_cancel_stops_everything_promptly(lab):
    targets = [
        target(lab.url("silent"), anchors=lab.anchors),
        target(lab.url("no-answer")),
        target(lab.url("ready"), anchors=lab.anchors),
    ]
    run = Run(targets, CheckSettings(timeout=30))
    run.start()
    time.sleep(0.3)
    cancelled_at = time.monotonic()
    run.cancel()
    report = run.wait(10)
    latency = time.monotonic() - cancelled_at
    assert report is not None, "the run did not stop"
    assert latency < 5, latency  # a run that ignored cancel would wait for its 30 s time limits
    assert report.cancelled and report.verdict is Verdict.COULD_NOT_CHECK
    silent = report.targets[0]
    assert Code.CHECK_CANCELLED in {f.code for f in silent.findings}
    assert Code.HANDSHAKE_TIMEOUT not in {f.code for f in silent.findings}


def test_progress_events_arrive_in_order(lab):
    events = []
    lock = threading.Lock()

    def listen(event):
        with lock:
            events.append(event)

    targets = [target(lab.url("ready"), anchors=lab.anchors), target(lab.url("refused"))]
    report = run_checks(targets, listener=listen)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert events[-1].report is report
    for t in targets:
        mine = [e for e in events if isinstance(e, CheckStarted | CheckFinished) and e.target_id == t.id]
        started = [e.check for e in mine if isinstance(e, CheckStarted)]
        finished = [e.check for e in mine if isinstance(e, CheckFinished)]
        assert started == finished or set(started) == set(finished)
        assert started[:2] == [Check.DNS, Check.TCP]
        done = [e for e in events if isinstance(e, TargetFinished) and e.report.target.id == t.id]
        assert len(done) == 1
    refused = [e.check for e in events if isinstance(e, CheckStarted) and e.target_id == targets[1].id]
    assert refused == [Check.DNS, Check.TCP]  # nothing after a refused connection


def test_a_listener_that_raises_does_not_break_the_run(lab):
    def broken(event):
        raise RuntimeError("listener bug")

    report = run_checks([target(lab.url("ready"), anchors=lab.anchors)], listener=broken)
    assert report.verdict is Verdict.READY


def test_one_broken_endpoint_never_stops_the_others(lab):
    targets = [target(lab.url("reset")), target(lab.url("plain-http")), target(lab.url("ready"), anchors=lab.anchors)]
    report = run_checks(targets)
    assert [t.verdict for t in report.targets] == [Verdict.ACTION_NEEDED, Verdict.ACTION_NEEDED, Verdict.READY]


def test_endpoints_are_checked_concurrently(server_factory, ca):
    # Eight servers that each hold every connection 0.3 s: one after the other would take 8 x 0.6 s or more.
    servers = [server_factory(server_context(ca.issue_cert("localhost")), hold=0.3) for _ in range(8)]
    started = time.monotonic()
    report = run_checks([target(s.url) for s in servers], CheckSettings(timeout=5))
    elapsed = time.monotonic() - started
    sequential = sum(t.elapsed_ms for t in report.targets) / 1000
    assert elapsed < sequential / 2, (elapsed, sequential)


def test_an_empty_run_could_not_check_anything():
    report = run_checks([])
    assert report.verdict is Verdict.COULD_NOT_CHECK


def test_cancel_interrupts_a_slow_name_lookup():
    from app.core.errors import Cancelled
    from app.core.net import Budget, CancelFlag, run_in_thread

    flag = CancelFlag()
    release = threading.Event()
    budget = Budget(30, flag)
    threading.Timer(0.2, flag.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_in_thread(lambda: release.wait(30), budget, "slow lookup")  # stands in for a lookup that hangs
    release.set()
    flag.close()
    assert time.monotonic() - started < 5  # without looking at the flag it would wait the whole 30 s


def test_the_engine_loads_neither_qt_nor_the_practice_lab():
    """The core runs a whole check (the catalog with its practice entries, the report, the bundle's writer)
    without the window's toolkit or the lab's servers: whoever starts the lab passes it in."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.core.catalog import load_catalog\n"
        "from app.core.runner import run_checks\n"
        "from app.core.model import CheckSettings\n"
        "from app.core import bundle, report_json, report_html, plan\n"
        "catalog = load_catalog(use_user_catalog=False)\n"
        "assert catalog.select('practice')\n"
        "run_checks([], CheckSettings())\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'app.lab', 'app.gui'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_no_context_made_ahead_outlives_its_run():
    """The run starts making its contexts as it starts; when no address gets as far as a handshake (here the
    name does not exist), the run still waits for them, so that none is left working (or writing a key file)."""
    from app.core.tls_contexts import ContextFactory

    report = run_checks([target("https://no-such-name.invalid/")], CheckSettings(timeout=2))
    assert report.targets[0].findings[0].code is Code.DNS_NOT_FOUND
    assert not [t for t in threading.enumerate() if t.name == "tls context"]
    threads = ContextFactory().prepare([target("https://no-such-name.invalid/")])
    assert {t.name for t in threads} == {"tls context"} and len(threads) == 2  # TLS 1.2 and 1.3 share one; the system's
    for thread in threads:
        thread.join(30)
