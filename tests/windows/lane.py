"""The Windows lane: the program, its tests, its frozen build and its installer, run under Wine.

    scripts/test-windows [--only STEP,STEP] [--fresh]

Runs under the host's Python (the project's ``.venv``); everything Windows runs in a Wine prefix of its own,
under the official Windows build of CPython 3.11 and the program's Windows wheels. Each step prints one line
(``PASS``/``FAIL``/``SKIP``, its name, its time) and writes its output to ``build/windows-lane/STEP.log``; the lane
exits 1 when any step fails. A download that fails is retried, then fails its step: a step never passes without
having run.

The cache (the prefix, the Windows Python, the wheels) lives in ``$TLS_READINESS_WINE_CACHE``, by default
``~/.cache/tls-readiness/windows-lane``; ``--fresh`` (or deleting that folder) starts from nothing. The prefix
is rebuilt by itself when what it is made of changes (this file, the stand-ins, the project's dependencies).

The prefix never touches the user's own folders: Wine runs with a home folder inside the cache (so its
"Desktop" and "Documents" are not links into ``$HOME``), menu entries are switched off, and the ``Z:`` drive
(the whole disk) is removed; only the repository (``R:``) and the wheels (``W:``) are visible to Windows programs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.windows.prefix import (
    OUT,
    ROOT,
    STAND_INS,
    Log,
    StepFailed,
    Wine,
    cache_dir,
    last_line,
    make_prefix_and_python,
    map_drive,
    prefix_recipe,
    run,
)

SCREENSHOT = OUT / "window-wine.png"  # --update-screenshot copies it to docs/screenshots/
DOCS_SCREENSHOT = ROOT / "docs" / "screenshots" / "window-wine.png"
INSTALL_NAME = "TLS Readiness Checker"
UNINSTALL_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\TLSReadinessChecker"


# ---- the lane ------------------------------------------------------------------------------------------------


@dataclass
class Lane:
    """The steps and what they share."""

    wine: Wine
    cache: Path
    results: list[tuple[str, str, float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def step(self, name: str, action: Callable[[Log], str | None], *, needs: Sequence[str] = ()) -> bool:
        """Run one step and print its line. ``needs``: steps that must have passed first."""
        log = Log(OUT / f"{name}.log")
        log.path.unlink(missing_ok=True)
        with self.lock:
            failed_needs = [n for n, status, _, _ in self.results if n in needs and status != "PASS"]
        if failed_needs:
            self._report(name, "SKIP", 0.0, f"needs {', '.join(failed_needs)}")
            return False
        started = time.monotonic()
        try:
            note = action(log) or ""
            status = "PASS"
        except StepFailed as exc:
            note, status = str(exc), "FAIL"
        except Exception as exc:  # a fault of the lane itself: still one line, and the traceback in the log
            import traceback

            log.write(traceback.format_exc())
            note, status = f"{type(exc).__name__}: {exc}", "FAIL"
        self._report(name, status, time.monotonic() - started, note)
        return status == "PASS"

    def _report(self, name: str, status: str, seconds: float, note: str) -> None:
        with self.lock:
            self.results.append((name, status, seconds, note))
            print(f"{status} {name} ({seconds:.0f} s){': ' + note if note else ''}", flush=True)

    @property
    def failed(self) -> list[str]:
        return [name for name, status, _, _ in self.results if status == "FAIL"]


def setup_prefix(lane: Lane, fresh: bool) -> Callable[[Log], str]:
    def action(log: Log) -> str:
        stamp = lane.wine.prefix / "lane-recipe.txt"
        recipe = prefix_recipe()
        if not fresh and stamp.exists() and stamp.read_text().strip() == recipe:
            map_drive(lane.wine, "r:", ROOT)
            return "cached"
        make_prefix_and_python(lane.wine, lane.cache, log)
        map_drive(lane.wine, "r:", ROOT)
        stamp.write_text(recipe + "\n")
        return f"made in {lane.wine.prefix}"

    return action


# ---- the steps -------------------------------------------------------------------------------------------------


def version() -> str:
    """The program's version, from app/__init__.py."""
    match = re.search(r'__version__ = "([^"]+)"', (ROOT / "app" / "__init__.py").read_text(encoding="utf-8"))
    if match is None:
        raise StepFailed("app/__init__.py names no __version__")
    return match.group(1)


def windows_path(path: Path, wine: Wine) -> str:
    """The Windows name of a path inside the prefix's C: drive."""
    return "C:\\" + str(path.relative_to(wine.drive_c)).replace("/", "\\")


class Steps:
    """What the lane checks, one method a step."""

    def __init__(self, wine: Wine, update_screenshot: bool = False) -> None:
        self.wine = wine
        self.update_screenshot = update_screenshot
        self.work = wine.drive_c / "lane"  # C:\lane: the frozen build, the installer, logs
        self.dist = self.work / "dist" / "tls-readiness"
        self.setup_exe = self.work / "tls-readiness-checker-setup.exe"

    def lane_env(self, logs_name: str = "logs", **extra: str) -> dict[str, str]:
        logs = self.work / logs_name  # the window has a folder of its own: it waits for its own run's line
        logs.mkdir(parents=True, exist_ok=True)
        return self.wine.env(
            TLS_READINESS_WINDOWS_LANE="1", TLS_READINESS_LOG_DIR=windows_path(logs, self.wine), **extra
        )

    def self_test_source(self, log: Log) -> str:
        proc = self.wine.py(["-m", "app", "--self-test"], log, env=self.lane_env(), timeout=300)
        return last_line(proc.stdout)

    def pytest(self, log: Log) -> str:
        # The certificate authorities' lab (nginx, openssl ocsp, faketime) runs here on Linux, where its programs
        # do; the tests under Wine attach to it through its folder, inside the prefix's C: drive.
        from tests.real_servers.authorities import LAB_ENV, AuthorityLab, missing

        folder = self.work / "authorities"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        why = missing()
        lab = None if why else AuthorityLab(folder).start()
        if lab is None:
            log.write(f"the certificate authorities' lab cannot start: {why}\n")
        else:
            lab.save()
        try:
            return self._pytest(log, {LAB_ENV: windows_path(folder, self.wine)} if lab else {})
        finally:
            if lab is not None:
                lab.stop()

    def _pytest(self, log: Log, extra: dict[str, str]) -> str:
        args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", "--ignore=tests/test_windows_live.py"]
        args.append("--deselect=tests/test_internet.py")
        env = self.lane_env(QT_QPA_PLATFORM="offscreen", **extra)
        proc = self.wine.py(args, log, env=env, timeout=1200, check=False)
        if proc.returncode != 0 and not proc.stdout.strip():
            # Seen once with the other track busy: wine exited at once, status 1, without a word (Python never
            # started, so no test ran). Once more; a real failure of the tests always prints something.
            log.write("wine exited at once without output; starting the tests once more")
            proc = self.wine.py(args, log, env=env, timeout=1200, check=False)
        summary = last_line(proc.stdout).strip("= ")
        if proc.returncode != 0:
            failures = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
            raise StepFailed(f"{summary}; {'; '.join(failures[:5])}")
        return summary

    def windows_live(self, log: Log) -> str:
        proc = self.wine.py(
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests/test_windows_live.py"],
            log,
            env=self.lane_env(QT_QPA_PLATFORM="offscreen"),
            timeout=300,
        )
        summary = last_line(proc.stdout).strip("= ")
        if "skipped" in summary:
            raise StepFailed(f"the live registry tests did not run: {summary}")
        return summary

    def practice(self, log: Log) -> str:
        proc = self.wine.py(
            ["-m", "app", "check", "--env", "practice", "--skip-java", "--json"],
            log,
            env=self.lane_env(),
            timeout=300,
            check=False,
        )
        if proc.returncode != 1:
            raise StepFailed(f"check --env practice exited with {proc.returncode}, not 1 (problems found)")
        text = proc.stdout  # the JSON report starts a line of its own (a note may come before it)
        start = 0 if text.startswith("{") else text.index("\n{") + 1
        report = json.loads(text[start : text.rindex("}") + 1])
        (OUT / "practice.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        return compare_with_scenarios(report, log)

    def window(self, log: Log) -> str:
        return show_window(self, log)

    def freeze(self, log: Log) -> str:
        shutil.rmtree(self.work / "dist", ignore_errors=True)
        self.wine.py(
            [
                "-m",
                "PyInstaller",
                "--noconfirm",  # the work folder is kept: PyInstaller redoes only what changed
                "--log-level",
                "WARN",
                "--distpath",
                windows_path(self.work / "dist", self.wine),
                "--workpath",
                windows_path(self.work / "build", self.wine),
                "packaging.spec",
            ],
            log,
            env=self.lane_env(),
            timeout=900,
        )
        for exe in ("tls-readiness.exe", "tls-readiness-gui.exe"):
            if not (self.dist / exe).is_file():
                raise StepFailed(f"PyInstaller made no {exe}")
        shipped = [p for p in self.dist.rglob("*") if p.name.lower() in STAND_INS]
        if shipped:
            raise StepFailed(f"the frozen folder holds a test-only stand-in: {shipped[0].relative_to(self.dist)}")
        size = sum(p.stat().st_size for p in self.dist.rglob("*") if p.is_file())
        return f"{size / 1e6:.0f} MB, no stand-in DLL inside"

    def self_test_frozen(self, log: Log) -> str:
        proc = self.wine.run(
            [windows_path(self.dist / "tls-readiness.exe", self.wine), "--self-test"],
            log,
            env=self.lane_env(),
            timeout=300,
        )
        return last_line(proc.stdout)

    def installer(self, log: Log) -> str:
        self.setup_exe.unlink(missing_ok=True)
        run(["installers/windows/make-installer", str(self.dist), str(self.setup_exe)], log, timeout=600)
        machine = pe_machine(self.setup_exe)
        if machine != "x64":
            raise StepFailed(f"the installer is a {machine} program, not 64-bit")
        return f"{self.setup_exe.stat().st_size / 1e6:.0f} MB, 64-bit"

    # -- installing ----------------------------------------------------------------------------------------

    @property
    def user(self) -> Path:
        return self.wine.user_folder()

    @property
    def install_dir(self) -> Path:
        return self.user / "AppData" / "Local" / "Programs" / INSTALL_NAME

    @property
    def start_menu(self) -> Path:
        return self.user / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / INSTALL_NAME

    @property
    def desktop_link(self) -> Path:
        return self.user / "Desktop" / f"{INSTALL_NAME}.lnk"

    def _install(self, log: Log, *options: str) -> None:
        self.wine.run([windows_path(self.setup_exe, self.wine), "/S", *options], log, timeout=300)

    def _check_installed(self, log: Log, desktop: bool) -> None:
        for name in ("tls-readiness.exe", "tls-readiness-gui.exe", "uninstall.exe", "_internal"):
            if not (self.install_dir / name).exists():
                raise StepFailed(f"{name} is not in {self.install_dir}")
        entry = self.wine.reg_query(UNINSTALL_KEY, log)
        want = {
            "DisplayName": INSTALL_NAME,
            "DisplayVersion": version(),
            "QuietUninstallString": "/S",
            "InstallLocation": "AppData\\Local\\Programs",
            "EstimatedSize": "0x",
            "DisplayIcon": "tls-readiness-gui.exe",
        }
        for value, text in want.items():
            line = next((line for line in entry.splitlines() if line.split() and line.split()[0] == value), "")
            if text not in line:
                raise StepFailed(f"the uninstall entry's {value} is {line.strip() or 'missing'}")
        for link in ("TLS Readiness Checker.lnk", "Check now.lnk"):
            if not (self.start_menu / link).is_file():
                raise StepFailed(f"no Start-menu shortcut {link}")
        if self.desktop_link.exists() is not desktop:
            raise StepFailed(f"desktop shortcut {'missing' if desktop else 'made without /DESKTOP'}")
        exe = windows_path(self.install_dir / "tls-readiness.exe", self.wine)
        shown = self.wine.run([exe, "--version"], log, env=self.lane_env(), timeout=120).stdout
        if version() not in shown:
            raise StepFailed(f"the installed program says {last_line(shown)!r}")

    def _uninstall(self, log: Log) -> None:
        self.wine.run([windows_path(self.install_dir / "uninstall.exe", self.wine), "/S"], log, timeout=300)
        # NSIS's uninstaller copies itself to %TEMP%, starts the copy and returns at once: wait for its work.
        deadline = time.monotonic() + 120
        while True:
            left = [p for p in (self.install_dir, self.start_menu, self.desktop_link) if p.exists()]
            entry = self.wine.reg_query(UNINSTALL_KEY, log)
            if not left and not entry:
                return
            if time.monotonic() > deadline:
                raise StepFailed(f"the uninstaller left {left[0] if left else 'the Apps & features entry'}")
            time.sleep(1)

    def install(self, log: Log) -> str:
        self._install(log)
        self._check_installed(log, desktop=False)
        self._uninstall(log)
        self._install(log, "/DESKTOP")
        self._check_installed(log, desktop=True)
        exe = windows_path(self.install_dir / "tls-readiness.exe", self.wine)
        self.wine.run([exe, "--self-test"], log, env=self.lane_env(), timeout=300)
        self._uninstall(log)
        return "/S and /S /DESKTOP: files, Apps & features entry, shortcuts, self-test, then all removed"

    def old_windows(self, log: Log) -> str:
        """On Windows 8.1 the installer refuses, in one sentence, and installs nothing."""
        # NSIS reads the version Windows reports to every program (not a per-program setting): change Wine's.
        self.wine.run(["reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", "win81", "/f"], log)
        try:
            proc = self.wine.run([windows_path(self.setup_exe, self.wine), "/S"], log, timeout=120, check=False)
        finally:
            self.wine.run(["reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", "win10", "/f"], log)
        installed = self.install_dir.exists() or bool(self.wine.reg_query(UNINSTALL_KEY, log))
        if installed:
            self._uninstall(log)
        if proc.returncode == 0 or installed:
            raise StepFailed(f"the installer ran on Windows 8.1 (exit status {proc.returncode})")
        return f"refused with exit status {proc.returncode}, nothing installed"

    def isolation(self, log: Log) -> str:
        """The prefix reaches nothing of the user's: no Z: drive, no links out of the prefix, no menu entries."""
        devices = {p.name for p in (self.wine.prefix / "dosdevices").iterdir()}
        if "z:" in devices:
            raise StepFailed("the prefix has a Z: drive (the whole disk)")
        for link in self.wine.drive_c.rglob("*"):
            if link.is_symlink() and not link.resolve().is_relative_to(self.wine.prefix):
                raise StepFailed(f"{link} points outside the prefix, to {link.resolve()}")
        menus = list((self.wine.home / ".local" / "share" / "applications").rglob("*.desktop"))
        real = [p for p in (Path.home() / ".local" / "share" / "applications").glob("wine*") if p.exists()]
        if menus or real:
            raise StepFailed(f"Wine wrote a menu entry: {(menus or real)[0]}")
        return f"drives {', '.join(sorted(d for d in devices if d.endswith(':')))}; no links out; no menu entries"


def pe_machine(path: Path) -> str:
    """The processor a Windows program is for, from its PE header."""
    data = path.read_bytes()[:4096]
    offset = int.from_bytes(data[0x3C:0x40], "little")
    if data[offset : offset + 4] != b"PE\0\0":
        return "not a Windows program"
    machine = int.from_bytes(data[offset + 4 : offset + 6], "little")
    return {0x8664: "x64", 0x14C: "32-bit x86", 0xAA64: "ARM64"}.get(machine, hex(machine))


def compare_with_scenarios(report: dict[str, object], log: Log) -> str:
    """Every practice scenario's promised codes, in a report made under Wine (the known limits excepted)."""
    sys.path.insert(0, str(ROOT))
    from app.core.scenarios import SCENARIOS
    from app.core.system import WINE_TRUSTS_UNKNOWN_ROOTS
    from app.selftest import NEEDS_AN_HONEST_ROOT_CHECK

    targets = report["targets"]
    assert isinstance(targets, list)
    found = {t["id"].removeprefix("practice-"): {f["code"] for f in t["findings"]} for t in targets}
    problems, skipped, passed = [], [], 0
    for scenario in SCENARIOS:
        if scenario.name not in found:
            continue
        codes = found[scenario.name]
        if "INTERNAL_ERROR" in codes:
            problems.append(f"{scenario.name}: INTERNAL_ERROR")
            continue
        missing = sorted(c.name for c in scenario.expect if c.name not in codes)
        if scenario.name in NEEDS_AN_HONEST_ROOT_CHECK:
            skipped.append(scenario.name)
            log.write(f"SKIP {scenario.name}: {WINE_TRUSTS_UNKNOWN_ROOTS} (got {sorted(codes)})")
        elif missing:
            problems.append(f"{scenario.name} lacks {', '.join(missing)} (got {', '.join(sorted(codes))})")
        else:
            passed += 1
            log.write(f"PASS {scenario.name}: {sorted(codes)}")
    if problems:
        raise StepFailed("; ".join(problems))
    return f"{passed} scenarios give their codes; skipped (Wine's limits): {', '.join(skipped)}"


def show_window(steps: Steps, log: Log) -> str:
    """The window under Xvfb with Qt's Windows platform plugin, after a check of the practice lab; a picture of
    the whole screen is saved in docs/screenshots/ (look at it)."""
    logs = steps.work / "logs-window"
    shutil.rmtree(logs, ignore_errors=True)
    steps.wine.stop()  # a desktop left by another program would have no screen: start from none
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    gui: subprocess.Popen[str] | None = None
    try:
        with os.fdopen(read_fd) as pipe:
            display = ":" + pipe.readline().strip()
        env = steps.lane_env("logs-window", DISPLAY=display)
        gui = subprocess.Popen(
            ["wine", steps.wine.python, "-m", "app.gui", "--env", "practice", "--run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        log_file = logs / "tls-readiness.log"
        while time.monotonic() < deadline:
            text = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
            if " finished" in text and "run " in text:
                break
            if gui.poll() is not None:
                raise StepFailed(f"the window closed by itself (exit status {gui.returncode})")
            time.sleep(0.5)
        else:
            raise StepFailed("the window's check did not finish within 120 s")
        time.sleep(2)  # let the last results paint
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        run(["import", "-display", display, "-window", "root", str(SCREENSHOT)], log, timeout=60)
        colours = run(["identify", "-format", "%k", str(SCREENSHOT)], log, timeout=60).stdout.strip()
        if not colours.isdigit() or int(colours) < 50:  # an empty screen: the window never showed
            raise StepFailed(f"the picture of the screen is blank ({colours} colours): the window did not show")
        if steps.update_screenshot:
            shutil.copyfile(SCREENSHOT, DOCS_SCREENSHOT)
            return f"{DOCS_SCREENSHOT.relative_to(ROOT)} (look at it)"
        return f"{SCREENSHOT.relative_to(ROOT)} (look at it; --update-screenshot puts it in docs/screenshots/)"
    finally:
        if gui is not None:  # only the window: the other track's programs run in the same prefix
            gui.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                out, _ = gui.communicate(timeout=30)
                log.write(out or "")
            if gui.poll() is None:
                gui.kill()
        xvfb.terminate()
        xvfb.wait(10)


# Two tracks run side by side (2 cores: the tests wait on sockets while PyInstaller and makensis compute).
TRACKS = (
    ("self-test-source", "pytest", "windows-live", "practice"),
    ("freeze", "self-test-frozen", "installer", "install"),
)
# After both, alone: the window needs Wine's desktop (explorer.exe) to be its own, on the virtual screen (a
# windowed program of the other track, such as the installer, would otherwise start it with no screen at all);
# old-windows changes the Windows version every program in the prefix sees.
AFTERWARDS = ("window", "old-windows", "isolation")
STEPS = (*TRACKS[0], *TRACKS[1], *AFTERWARDS)
NEEDS = {
    "self-test-frozen": ["freeze"],
    "installer": ["freeze"],
    "install": ["installer"],
    "old-windows": ["installer"],
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/test-windows", description="Run the program, its tests, its build and its installer under Wine."
    )
    parser.add_argument("--fresh", action="store_true", help="make the prefix again from nothing")
    parser.add_argument("--only", default="", help=f"comma-separated steps to run (of: {', '.join(STEPS)})")
    parser.add_argument(
        "--update-screenshot", action="store_true", help="copy the window's picture to docs/screenshots/"
    )
    args = parser.parse_args(argv)
    chosen = [s for s in args.only.split(",") if s] or list(STEPS)
    unknown = [s for s in chosen if s not in STEPS]
    if unknown:
        parser.error(f"unknown step {unknown[0]!r}; the steps are {', '.join(STEPS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    lane = Lane(Wine(cache), cache)
    steps = Steps(lane.wine, args.update_screenshot)
    started = time.monotonic()
    print(f"windows lane: prefix and downloads in {cache}; logs in {OUT.relative_to(ROOT)}/", flush=True)
    lane.step("prefix", setup_prefix(lane, args.fresh))

    def run_steps(names: Sequence[str]) -> None:
        for name in names:
            if name in chosen:
                lane.step(name, getattr(steps, name.replace("-", "_")), needs=["prefix", *NEEDS.get(name, [])])

    try:
        tracks = [threading.Thread(target=run_steps, args=(track,), name="+".join(track[:1])) for track in TRACKS]
        for track in tracks:
            track.start()
        for track in tracks:
            track.join()
        run_steps(AFTERWARDS)
    finally:
        lane.wine.stop()
    passed = sum(1 for _, status, _, _ in lane.results if status == "PASS")
    print(f"windows lane: {passed} of {len(lane.results)} steps passed in {time.monotonic() - started:.0f} s")
    return 1 if lane.failed or passed != len(lane.results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
