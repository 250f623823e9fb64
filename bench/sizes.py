"""Sizes of the one-folder build and the installers in dist/ (made by installers/build).

    .venv/bin/python bench/sizes.py [--build]

``--build`` first runs ``installers/build`` (release compression: the .deb in xz) and compiles the NSIS installer
from the Linux folder, as an estimate of the Windows installer (the Windows folder has other libraries). A .deb
made with ``--fast`` (gzip, for CI) is reported as such, not as the release size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
FOLDER = DIST / "tls-readiness"

sys.path.insert(0, str(ROOT))


def build() -> None:
    subprocess.run([str(ROOT / "installers" / "build")], cwd=ROOT, check=True)
    from app import __version__

    subprocess.run(
        [
            "makensis",
            "-V2",
            f"-DVERSION={__version__}",
            f"-DSOURCE_DIR={FOLDER}",
            f"-DOUT_FILE={DIST / f'tls-readiness-checker-{__version__}-setup-from-linux.exe'}",
            str(ROOT / "installers" / "windows" / "tls-readiness.nsi"),
        ],
        check=True,
    )


def measure() -> dict[str, object]:
    """Every size in bytes (None for what is not built)."""
    if not FOLDER.is_dir():
        return {"folder": None}
    files = [p for p in FOLDER.rglob("*") if p.is_file() and not p.is_symlink()]
    parts = sorted(((p.stat().st_size, str(p.relative_to(FOLDER))) for p in files), reverse=True)
    result: dict[str, object] = {
        "folder": sum(size for size, _name in parts),
        "folder_files": len(parts),
        "largest": [{"file": name, "bytes": size} for size, name in parts[:6]],
    }
    for deb in DIST.glob("*.deb"):
        members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True, check=True).stdout.split()
        result["deb"] = {"bytes": deb.stat().st_size, "compression": next(m for m in members if m.startswith("data"))}
    for tar in DIST.glob("*.tar.gz"):
        result["tar_gz"] = tar.stat().st_size
    for exe in DIST.glob("*-setup-from-linux.exe"):
        result["nsis_from_linux_folder"] = exe.stat().st_size
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="build the release installers first")
    args = parser.parse_args()
    if args.build:
        build()
    print(measure())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
