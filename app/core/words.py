"""The plain-language words for each finding code, read from ``app/resources/explanations.toml``, and the
meanings of the words a person may not know, from ``app/resources/glossary.toml``."""

from __future__ import annotations

import functools
import re
import string
import threading
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.findings import Code, Finding, Status, Verdict
from app.core.resources import required_resource

WORDS_FILE = "explanations.toml"
GLOSSARY_FILE = "glossary.toml"
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


_reading = threading.Lock()  # one reading of the words at a time: a second caller waits for the first one's


def load_words(path: Path | None = None) -> Mapping[str, Mapping[str, Any]]:
    """All entries of the words file, by code, read once (reading it takes some 30 ms: the command line does so
    while its check waits for the network). Raises ``ValueError`` naming the entry when one is broken."""
    with _reading:
        return _read_words(path)


@functools.cache
def _read_words(path: Path | None) -> Mapping[str, Mapping[str, Any]]:
    file = path or required_resource(WORDS_FILE)
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    for code, entry in data.items():
        if not isinstance(entry, dict):
            raise ValueError(f"{file}: entry {code} is not a table")
        for label, words in (("", entry), *((f".{k}", v) for k, v in entry.items() if isinstance(v, dict))):
            for name in _FIELDS:
                if not isinstance(words.get(name), str) or not words[name].strip():
                    raise ValueError(f"{file}: entry {code}{label} has no text for '{name}'")
    return data


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders a sentence uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


VARIANT = "variant"  # a finding's parameter that picks other words for the same code (``[CODE.variant]``)


def variants(code: Code) -> tuple[str, ...]:
    """The names of a code's other wordings (such as ``clock`` for CERT_EXPIRED explained by a wrong clock)."""
    return tuple(k for k, v in load_words()[code.value].items() if isinstance(v, dict))


def words_for(code: Code, params: Mapping[str, str] | None = None) -> Words:
    """The words for a code with its placeholders filled in (an unknown value shows as ``?``). A ``variant``
    parameter picks that wording of the code when the words file has one."""
    entry = load_words()[code.value]
    chosen = entry.get((params or {}).get(VARIANT, ""))
    if isinstance(chosen, dict):
        entry = chosen
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
    "host": "the address checked",
    "port": "443 (or the address's own)",
    "ms": "a few",
    "addresses": "its addresses",
    "cipher": "",
    "versions": "TLS 1.0 and 1.1",
    "subject": "the certificate's owner",
    "issuer": "an authority",
    "days": "a few",
    "until": "the date on it",
    "from": "a date still to come",
    "names": "several names",
    "status": "",
    "reason": "",
    "with_cert": "",
    "cas": "the authorities it names",
    "file": "your certificate file",
    "proxy": "in use",
    "version": "X.Y",  # "Java X.Y is installed": plainly a stand-in
    "minimum": "6.1.0.0",
    "install_page": "https://mpp.caiso.com/ads_install",
    "notice": "on the ISO's website",
    "windows": "Windows",
    "why": "the reason is in the diagnostic bundle",
    "path": "its folder",
    "source": "this computer's settings",
    "how": "in a way the diagnostic bundle names",
    "script": "a script",
    "set_by": "this computer's settings or a Group Policy",
    "whose": "its certificate",
    "this_time": "this computer's time",
    "servers_time": "another time",
    "difference": "more than five minutes off",
    "expected": "the ISO's authority",
    "seen": "another authority",
    "hosts": "an ISO address",
}


# The window's places, as the command line says them (the same advice, where that person acts). In order: the
# longer phrases before the shorter ones they contain.
_COMMAND_LINE = (
    ("Export the diagnostic bundle (File menu)", "Write the diagnostic bundle (--bundle)"),
    ("export the diagnostic bundle (File menu)", "write the diagnostic bundle (--bundle)"),
    ("add it in Settings, under 'Extra trusted certificates'", "give it with --ca-file"),
    ("Enter it in Settings (or with --proxy)", "Give it with --proxy"),
    ("(Settings, or --proxy on the command line)", "(--proxy)"),
    ("Check the proxy address in Settings", "Check the proxy address given with --proxy"),
    (
        "Choose your ISO certificate under Client certificate, type its password,",
        "Give your ISO certificate with --client-cert,",
    ),
    (
        "Press Choose... next to Client certificate and choose the file again: the program then asks which "
        "certificate to use.",
        "Give the certificate's name with --client-cert-alias (the names are in the message above).",
    ),
    ("choose the new file under Client certificate", "give the new file with --client-cert"),
    ("choose the new certificate under Client certificate", "give the new certificate with --client-cert"),
    ("choose the file under Client certificate", "give the file with --client-cert"),
    ("choose it under Client certificate, type the store's password,", "give it with --client-cert,"),
    ("choose it under Client certificate", "give it with --client-cert"),
    ("choose that file under Client certificate", "give that file with --client-cert"),
    ("in the list)", "in the report)"),
    ("press Check again", "run the check again"),
    ("Press Check again", "Run the check again"),
    ("On the command line, give its name with --client-cert-alias.", ""),
)


def for_command_line(text: str) -> str:
    """Words written for the window, with the command line's places instead ("--bundle", not "File menu")."""
    for window, command in _COMMAND_LINE:
        text = text.replace(window, command)
    return " ".join(text.split())


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


@dataclass(frozen=True)
class Term:
    """A word a person may not know, with its plain meaning."""

    term: str
    meaning: str
    uses: tuple[str, ...]  # how the texts write it


@functools.cache
def load_glossary(path: Path | None = None) -> tuple[Term, ...]:
    """Every term of the glossary. Raises ``ValueError`` naming the entry when one is broken."""
    file = path or required_resource(GLOSSARY_FILE)
    with file.open("rb") as fh:
        data = tomllib.load(fh)
    terms = []
    for key, entry in data.items():
        uses = entry.get("uses") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in ("term", "meaning")):
            raise ValueError(f"{file}: entry {key} needs a term and a meaning")
        if not isinstance(uses, list) or not uses or not all(isinstance(u, str) and u for u in uses):
            raise ValueError(f"{file}: entry {key} needs a list of uses")
        terms.append(Term(entry["term"], entry["meaning"], tuple(uses)))
    return tuple(terms)


def _exact(use: str) -> bool:
    """All-capital uses (TLS, ADS) are matched as written; others in any case."""
    return use == use.upper()


@functools.cache
def _glossary_index() -> tuple[re.Pattern[str], dict[str, Term]]:
    by_use: dict[str, Term] = {}
    for term in load_glossary():
        for use in term.uses:
            by_use[use if _exact(use) else use.lower()] = term
    # The longest use first ("private key" before "key"), as a whole word: not inside a name such as my-proxy.pfx,
    # proxy.example.com, proxy:8080 or C:\\Java\\bin.
    ordered = sorted({u for t in load_glossary() for u in t.uses}, key=len, reverse=True)
    parts = [re.escape(u) if _exact(u) else f"(?i:{re.escape(u)})" for u in ordered]
    return re.compile(r"(?<![\w.\-/\\])(?:" + "|".join(parts) + r")(?![\w\-/\\]|[.:]\w)"), by_use


def terms_used(*texts: str) -> list[Term]:
    """The glossary's terms these texts use, in the order of their first use, each once."""
    pattern, by_use = _glossary_index()
    found: list[Term] = []
    for text in texts:
        for match in pattern.finditer(text):
            term = by_use.get(match.group()) or by_use.get(match.group().lower())
            if term is not None and term not in found:
                found.append(term)
    return found
