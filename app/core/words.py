"""The plain-language words for each finding code, read from ``app/resources/explanations.toml``."""

from __future__ import annotations

import functools
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.core.findings import Code, Finding, Status, Verdict
from app.core.resources import required_resource

WORDS_FILE = "explanations.toml"
_FIELDS = ("title", "explanation", "action")


@dataclass(frozen=True)
class Words:
    """What a person reads about one finding.

    Attributes:
        title: a short headline.
        explanation: what happened and what it means, in plain words.
        action: what to do next, naming whom to contact.
    """

    title: str
    explanation: str
    action: str


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


@functools.cache
def load_words(path: Path | None = None) -> Mapping[str, Mapping[str, str]]:
    """All entries of the words file, by code. Raises ``ValueError`` naming the entry when one is broken."""
    file = path or required_resource(WORDS_FILE)
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    for code, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{file}: entry {code} is not a table")
        for name in _FIELDS:
            if not isinstance(entry.get(name), str) or not entry[name].strip():
                raise ValueError(f"{file}: entry {code} has no text for '{name}'")
    return data


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders a sentence uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def words_for(code: Code, params: Mapping[str, str] | None = None) -> Words:
    """The words for a code with its placeholders filled in (an unknown value shows as ``?``)."""
    entry = load_words()[code.value]
    values = _Blank(params or {})
    return Words(*(entry[name].strip().format_map(values) for name in _FIELDS))


STATUS_WORDS: Mapping[Status, str] = {
    Status.PASS: "OK",
    Status.INFO: "Note",
    Status.SKIPPED: "Not checked",
    Status.WARNING: "Warning",
    Status.ERROR: "Could not check",
    Status.FAIL: "Problem",
}
VERDICT_WORDS: Mapping[Verdict, str] = {
    Verdict.READY: "Ready",
    Verdict.ACTION_NEEDED: "Action needed",
    Verdict.COULD_NOT_CHECK: "Could not check",
}

# When only the code is known (a support code read over the phone), the sentences refer to the details in
# general terms instead of showing "?".
GENERIC_PARAMS: Mapping[str, str] = {
    "host": "that server",
    "port": "(see the report)",
    "ms": "a few",
    "addresses": "its addresses",
    "cipher": "",
    "versions": "TLS 1.0 and 1.1",
    "subject": "(see the report)",
    "issuer": "(see the report)",
    "days": "a few",
    "until": "the date in the report",
    "from": "the date in the report",
    "names": "other names",
    "status": "",
    "reason": "",
    "with_cert": "",
    "cas": "(see the report)",
    "file": "your certificate file",
    "proxy": "the proxy",
    "version": "the version in the report",
    "minimum": "6.1.0.0",
    "install_page": "https://mpp.caiso.com/ads_install",
    "notice": "the ISO's market notice",
    "windows": "Windows",
    "why": "see the report",
    "path": "its folder",
    "source": "this computer's settings",
    "how": "see the report",
    "script": "a script",
    "set_by": "this computer's settings or a Group Policy",
}


def explain(finding: Finding) -> Words:
    """The words a person reads for one finding."""
    params = finding.params
    if "xn--" in params.get("host", ""):
        params = {**params, "host": readable_host(params["host"])}
    return words_for(finding.code, params)


def readable_host(host: str) -> str:
    """An internationalized name as its reader typed it, with the form on the wire after it:
    ``bücher.example (xn--bcher-kva.example)``. Other names are returned as they are."""
    try:
        shown = host.encode("ascii").decode("idna")
    except UnicodeError:
        return host
    return host if shown == host else f"{shown} ({host})"
