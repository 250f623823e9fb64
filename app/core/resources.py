"""Where the program's resource files (catalog, explanations, schema) are, from source or frozen."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import InstallationDamaged


def resources_dir() -> Path:
    """The ``app/resources/`` folder: package data, so it is where the ``app`` package is, however the program
    was installed (from source, editable, a wheel, or frozen by PyInstaller, which keeps the package's layout)."""
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(name: str) -> Path:
    """The path of one resource file, such as ``catalog.toml`` (whether or not it is there)."""
    return resources_dir() / name


def required_resource(name: str) -> Path:
    """The path of a resource the program cannot work without. Raises :class:`InstallationDamaged` when it is
    missing: that is a broken installation, not a wrong path the user gave."""
    path = resource_path(name)
    if not path.is_file():
        raise InstallationDamaged(name, str(path.parent))
    return path
