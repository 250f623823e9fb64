"""Make the Linux .deb and .tar.gz from the one-folder build in dist/tls-readiness/.

    .venv/bin/python installers/linux/package.py [--fast] [--out dist]

The .deb installs the folder in /opt/tls-readiness-checker, the two commands in /usr/bin, a menu entry and the
icon, and depends on the system libraries the folder leaves out (system_libraries.py). The .tar.gz holds the
same folder, the menu entry and the icon, with a README naming those packages. ``--fast`` compresses lightly
(for CI, where only the contents matter); without it the .deb uses xz, as released.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app import __version__  # noqa: E402
from installers.linux.system_libraries import DEB_DEPENDS  # noqa: E402

PACKAGE = "tls-readiness-checker"
FOLDER = ROOT / "dist" / "tls-readiness"
ICON = ROOT / "app" / "resources" / "icons" / "tls-readiness.png"
PREFIX = Path("opt") / PACKAGE
SUMMARY = "Checks that this computer can reach the California ISO's market systems over TLS 1.2"

DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=TLS Readiness Checker
GenericName=Connection checker
Comment=Check that this computer can reach the California ISO's market systems over TLS 1.2
Exec={exec} %U
Icon={icon}
Terminal=false
Categories=Network;Utility;
Keywords=TLS;CAISO;ADS;CMRI;certificate;proxy;
Actions=check-now;

[Desktop Action check-now]
Name=Check now
Exec={exec} --run
"""

TAR_README = """TLS Readiness Checker {version} for Linux (x86_64)

Start it: double-click tls-readiness/tls-readiness-gui, or run it from a terminal.
The command line is tls-readiness/tls-readiness (try: tls-readiness/tls-readiness check --env practice).
Prove the copy works: tls-readiness/tls-readiness --self-test

It uses these libraries of the system (on Debian and Ubuntu, install them with apt if missing):
  {depends}

A menu entry: copy tls-readiness-checker.desktop to ~/.local/share/applications/ and change its Exec line
to the full path of tls-readiness-gui; copy tls-readiness-checker.png to ~/.local/share/icons/.
"""


def _installed_size_kib(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) // 1024 + 1


def _architecture() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def build_deb(out: Path, fast: bool) -> Path:
    """The .deb, built with dpkg-deb (owned by root, whoever builds it)."""
    arch = _architecture()
    target = out / f"{PACKAGE}_{__version__}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="tlsrc-deb-") as scratch:
        root = Path(scratch) / "root"
        shutil.copytree(FOLDER, root / PREFIX, symlinks=True)
        bin_dir = root / "usr" / "bin"
        bin_dir.mkdir(parents=True)
        for name in ("tls-readiness", "tls-readiness-gui"):
            (bin_dir / name).symlink_to(Path("/") / PREFIX / name)
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        (apps / f"{PACKAGE}.desktop").write_text(DESKTOP_ENTRY.format(exec="tls-readiness-gui", icon=PACKAGE))
        icons = root / "usr" / "share" / "icons" / "hicolor" / "256x256" / "apps"
        icons.mkdir(parents=True)
        shutil.copy2(ICON, icons / f"{PACKAGE}.png")
        docs = root / "usr" / "share" / "doc" / PACKAGE
        docs.mkdir(parents=True)
        (docs / "changelog.gz").write_bytes(gzip.compress(f"{PACKAGE} ({__version__}) stable; urgency=low\n".encode()))
        control = root / "DEBIAN"
        control.mkdir()
        (control / "control").write_text(
            f"Package: {PACKAGE}\n"
            f"Version: {__version__}\n"
            "Section: net\n"
            "Priority: optional\n"
            f"Architecture: {arch}\n"
            f"Installed-Size: {_installed_size_kib(root)}\n"
            f"Depends: {', '.join(DEB_DEPENDS)}\n"
            "Maintainer: TLS Readiness Checker developers <support@tls-readiness-checker.invalid>\n"
            f"Description: {SUMMARY}\n"
            " A desktop program for the staff of companies that trade in the California ISO's electricity\n"
            " market: press one button to learn whether this computer, its proxy and its certificates are\n"
            " ready for TLS 1.2, and what to do when they are not.\n"
        )
        for path in root.rglob("*"):  # dpkg-deb wants 0755 folders and no group or other write permission
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
        compression = ["-Zgzip", "-z1"] if fast else ["-Zxz", "-z9"]
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", *compression, "--build", str(root), str(target)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return target


def build_tar(out: Path, fast: bool) -> Path:
    """The .tar.gz: the folder, a menu entry, the icon and a README."""
    target = out / f"{PACKAGE}-{__version__}-linux-x86_64.tar.gz"
    top = f"{PACKAGE}-{__version__}"

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    with tempfile.TemporaryDirectory(prefix="tlsrc-tar-") as scratch:
        extra = Path(scratch)
        (extra / "README.txt").write_text(
            TAR_README.format(version=__version__, depends=", ".join(DEB_DEPENDS).replace(", ", "\n  "))
        )
        (extra / f"{PACKAGE}.desktop").write_text(
            DESKTOP_ENTRY.format(exec="/path/to/tls-readiness/tls-readiness-gui", icon=PACKAGE)
        )
        shutil.copy2(ICON, extra / f"{PACKAGE}.png")
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz", compresslevel=1 if fast else 9) as tar:
            for item in sorted(extra.iterdir()):
                tar.add(item, f"{top}/{item.name}", filter=owned_by_root)
            tar.add(FOLDER, f"{top}/tls-readiness", filter=owned_by_root)
        partial.replace(target)  # a half-written archive never carries the final name
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="light compression (CI)")
    parser.add_argument("--out", default=str(ROOT / "dist"), help="where to write the packages")
    args = parser.parse_args()
    if not (FOLDER / "tls-readiness-gui").is_file():
        sys.stderr.write(f"{FOLDER} has no build: run PyInstaller first (installers/build does both).\n")
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in (build_deb(out, args.fast), build_tar(out, args.fast)):
        print(f"{path} {path.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
