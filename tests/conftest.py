"""Shared fixtures: the practice lab, trustme authorities, and small real TLS servers on 127.0.0.1."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
import tempfile

if "TLS_READINESS_LOG_DIR" not in os.environ:  # never write into the real per-user log folder
    os.environ["TLS_READINESS_LOG_DIR"] = tempfile.mkdtemp(prefix="tlsrc-test-logs-")
if "TLS_READINESS_CACHE_DIR" not in os.environ:  # nor into the real cache folder (the Java probe's class archive)
    import atexit
    import shutil

    os.environ["TLS_READINESS_CACHE_DIR"] = tempfile.mkdtemp(prefix="tlsrc-test-cache-")
    atexit.register(shutil.rmtree, os.environ["TLS_READINESS_CACHE_DIR"], ignore_errors=True)  # 9 MB an archive

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import trustme

from app.core.model import CheckSettings, RunReport, Target
from app.core.runner import run_checks
from app.lab import PracticeLab, shared_lab, stop_shared_lab
from tests.servers import TestServer

if TYPE_CHECKING:
    from tests.real_servers.authorities import AuthorityLab


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-internet", action="store_true", help="also run tests that reach the ISO's real servers")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-internet"):
        return
    skip = pytest.mark.skip(reason="needs the internet: run with --run-internet")
    for item in items:
        if "internet" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def lab() -> Iterator[PracticeLab]:
    """The practice lab, started once for the whole session (the same one the window uses)."""
    instance = shared_lab()
    yield instance
    stop_shared_lab()


@pytest.fixture(scope="session")
def practice_report(lab: PracticeLab) -> RunReport:
    """One full run over every practice endpoint of the built-in catalog (shared by many tests)."""
    from app.core.catalog import load_catalog, targets_for

    catalog = load_catalog(use_user_catalog=False)
    targets = targets_for(catalog.select("practice"), lab.urls(), lab.anchors, lab.company)
    return run_checks(targets, CheckSettings(), environment="practice")


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_factory() -> Iterator[type[TestServer]]:
    """Make TestServers that are all stopped at the end of the test."""
    made: list[TestServer] = []

    class Factory(TestServer):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    yield Factory
    for server in made:
        server.stop()


def target(url: str, **kwargs: object) -> Target:
    """A target for an address (test helper)."""
    from app.core.addresses import parse_address

    return Target(url, url, parse_address(url), **kwargs)  # type: ignore[arg-type]


def days(n: int) -> dt.datetime:
    """Now plus ``n`` days, in UTC."""
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=n)


@pytest.fixture(scope="session")
def authority_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthorityLab]:
    """Certificate authorities, their lists and OCSP responder, and sites (some with shifted clocks), on real
    servers (tests/real_servers/authorities.py): started once, or the one the Windows lane started."""
    from tests.real_servers import authorities

    shared = os.environ.get(authorities.LAB_ENV)
    if shared:
        yield authorities.AuthorityLab.attach(Path(shared))
        return
    why = authorities.missing()
    if why:
        pytest.skip(f"no certificate authority lab here: {why}")
    lab = authorities.AuthorityLab(tmp_path_factory.mktemp("authorities"))
    try:
        yield lab.start()
    finally:
        lab.stop()
