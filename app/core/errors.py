"""Problems with what the user gave us (addresses, files, options).

Network outcomes are never exceptions: they are results and findings. These exceptions are for input that
cannot be used at all; each carries one clear sentence for the person who typed it, and the command line
turns it into exit status 2 without a traceback.
"""

from __future__ import annotations


class InputError(Exception):
    """Input the program cannot use. ``str(error)`` is one plain sentence, safe to show (no secrets)."""


class AddressError(InputError):
    """An address (URL) that is malformed, not https, or has a port out of range."""


class CatalogError(InputError):
    """A catalog file that is missing, not valid TOML, or has an entry with a wrong or missing field.

    Attributes:
        path: the catalog file.
        entry: the entry at fault (``endpoints[3]``, ``environments.production``), or empty for the whole file.
        field: the field at fault, or empty.
    """

    def __init__(self, path: str, message: str, entry: str = "", field: str = "") -> None:
        self.path = path
        self.entry = entry
        self.field = field
        where = path
        if entry:
            where += f", entry {entry}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"The catalog {where}: {message}")


class SelectionError(InputError):
    """An environment, application or endpoint identifier that the catalog does not know."""


class TrustFileError(InputError):
    """An extra trusted-certificate file (``--ca-file``) that is missing or holds no usable certificate."""


class InstallationDamaged(Exception):
    """A file the program itself brings is missing: the installation is damaged (never the user's input).

    ``str(error)`` is one plain sentence: which file, and to install the program again.
    """

    def __init__(self, name: str, folder: str) -> None:
        self.name = name
        self.folder = folder
        super().__init__(
            f"This installation of TLS Readiness Checker is damaged: its file {name} is missing (looked in {folder}). "
            "Please install the program again."
        )


class Cancelled(Exception):
    """The user pressed Cancel (or the program is closing); raised inside a check to stop it promptly."""
