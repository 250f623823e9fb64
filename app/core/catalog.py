"""The endpoint catalog: environments, applications and the ISO's addresses, from ``app/resources/catalog.toml``
plus an optional catalog supplied by the company's IT department.

Format: ``docs/catalog.md``. Every entry is validated on load; an error names the file, the entry and the field.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.addresses import Address, parse_address
from app.core.checks.issuers import ExpectedIssuer, parse_expected_issuer
from app.core.contacts import KINDS as CONTACT_KINDS
from app.core.contacts import Contact
from app.core.errors import AddressError, CatalogError, SelectionError
from app.core.model import ClientCertExpectation, Target
from app.core.resources import required_resource
from app.core.tls_contexts import TrustAnchors

BUILT_IN = "catalog.toml"
USER_CATALOG_NAME = "catalog.toml"
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True)
class Environment:
    """An environment of the ISO's systems (Production, MAP-Stage) or the practice lab.

    Attributes:
        id: the identifier used on the command line (``production``).
        name: what people call it.
        description: one sentence about it.
        note: something to know before checking (maintenance windows), or empty.
        practice: True for the practice lab on this computer.
        expected_issuers: the authorities its servers' certificates come from (see :mod:`app.core.checks.issuers`).
    """

    id: str
    name: str
    description: str = ""
    note: str = ""
    practice: bool = False
    expected_issuers: tuple[ExpectedIssuer, ...] = ()


@dataclass(frozen=True)
class Application:
    """One of the ISO's applications (ADS, CMRI...).

    Attributes:
        id: the identifier used on the command line (``ads``).
        name: what people call it.
        description: one sentence about it.
        expected_issuers: the authorities its servers' certificates come from.
    """

    id: str
    name: str
    description: str = ""
    expected_issuers: tuple[ExpectedIssuer, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """One address of one application in one environment.

    Attributes:
        id: a unique identifier.
        environment: the environment's id.
        application: the application's id.
        name: what people call it.
        url: the https address (absent for practice entries, which name a lab scenario).
        lab: the practice lab scenario it points at, or empty.
        client_certificate: whether the ISO expects a client certificate there.
        source: where the address comes from.
        confidence: ``stated`` (the source says so) or ``inferred``.
        checked_by_default: False for candidates kept for reference (checked with ``--all-addresses``).
        timeout: this endpoint's own time limit per step, or None.
        note: anything else worth knowing.
        expected_issuers: the authorities its certificate may come from: its own, its application's and its
            environment's (filled in when the catalog is put together).
        defined_in: the catalog file it comes from (for error messages).
        entry: its place in that file, such as ``endpoints[3] (prod-mpp)``.
    """

    id: str
    environment: str
    application: str
    name: str
    url: str
    lab: str
    client_certificate: ClientCertExpectation
    source: str
    confidence: str
    checked_by_default: bool = True
    timeout: float | None = None
    note: str = ""
    expected_issuers: tuple[ExpectedIssuer, ...] = ()
    defined_in: str = field(default="", compare=False)
    entry: str = field(default="", compare=False)

    @property
    def address(self) -> Address:
        """The parsed address (practice entries have none until the lab runs)."""
        return parse_address(self.url)


@dataclass(frozen=True)
class Catalog:
    """Everything the program can check.

    Attributes:
        version: the catalog's version (shown in Help and reports).
        files: the files it was read from, built-in first.
        environments: by id, in file order.
        applications: by id, in file order.
        endpoints: in file order.
        contacts: whom to ask, by kind (``iso``, ``uaa``, and from an IT department's catalog ``help_desk``).
    """

    version: str
    files: tuple[str, ...]
    environments: Mapping[str, Environment]
    applications: Mapping[str, Application]
    endpoints: tuple[Endpoint, ...]
    contacts: Mapping[str, Contact] = field(default_factory=dict)

    def environment(self, env_id: str) -> Environment:
        """The environment ``env_id``; raises :class:`SelectionError` in plain words."""
        try:
            return self.environments[env_id.lower()]
        except KeyError:
            known = ", ".join(self.environments)
            raise SelectionError(f"There is no environment '{env_id}'. Choose one of: {known}.") from None

    def applications_in(self, env_id: str) -> list[Application]:
        """The applications with at least one endpoint in an environment, in catalog order."""
        ids = {e.application for e in self.endpoints if e.environment == env_id}
        return [a for a in self.applications.values() if a.id in ids]

    def select(self, env_id: str, app_ids: Iterable[str] = (), all_addresses: bool = False) -> list[Endpoint]:
        """The endpoints to check for an environment and (optionally) some applications."""
        env = self.environment(env_id)
        wanted = [a.lower() for a in app_ids]
        for app in wanted:
            if app not in self.applications:
                known = ", ".join(self.applications)
                raise SelectionError(f"There is no application '{app}'. Choose one of: {known}.")
            if not any(e.application == app and e.environment == env.id for e in self.endpoints):
                here = ", ".join(a.id for a in self.applications_in(env.id))
                raise SelectionError(
                    f"The {env.name} environment has no address for {self.applications[app].name}. It has: {here}."
                )
        return [
            e
            for e in self.endpoints
            if e.environment == env.id
            and (not wanted or e.application in wanted)
            and (all_addresses or e.checked_by_default or (bool(wanted) and _only_choice(self, e)))
        ]


def _only_choice(catalog: Catalog, endpoint: Endpoint) -> bool:
    """An application whose every address is a reference candidate is still checked when asked for by name."""
    return not any(
        e.checked_by_default
        for e in catalog.endpoints
        if e.environment == endpoint.environment and e.application == endpoint.application
    )


def user_catalog_path() -> Path:
    """Where an IT department may put a catalog for one user (read automatically when present).

    Windows: ``%APPDATA%\\TLS Readiness Checker\\catalog.toml``; macOS:
    ``~/Library/Application Support/TLS Readiness Checker/catalog.toml``; elsewhere:
    ``$XDG_CONFIG_HOME/tls-readiness-checker/catalog.toml`` (``~/.config`` by default).
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
        return base / "TLS Readiness Checker" / USER_CATALOG_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "TLS Readiness Checker" / USER_CATALOG_NAME
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tls-readiness-checker" / USER_CATALOG_NAME


def load_catalog(extra: str | Path | None = None, use_user_catalog: bool = True) -> Catalog:
    """The built-in catalog, merged with ``extra`` (``--catalog``) or else the per-user catalog when present."""
    catalog = load_builtin()
    if extra is not None:
        return merge(catalog, parse_catalog_file(Path(extra), built_in=False))
    user = user_catalog_path()
    if use_user_catalog and user.is_file():
        return merge(catalog, parse_catalog_file(user, built_in=False))
    return catalog


@dataclass(frozen=True)
class _Parsed:
    path: str
    version: str
    mode: str
    environments: dict[str, Environment]
    applications: dict[str, Application]
    endpoints: list[Endpoint]
    contacts: dict[str, Contact]


def parse_catalog_file(path: Path, built_in: bool = True) -> _Parsed:
    """Read and validate one catalog file (references to other files' entries are checked by :func:`merge`)."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(name, "the file does not exist") from None
    except OSError as exc:
        raise CatalogError(name, f"the file cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(name, "the file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(name, f"this is not valid TOML ({exc})") from None
    return _Reader(name, data).read(built_in)


class _Reader:
    def __init__(self, path: str, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, message: str, entry: str = "", field: str = "") -> CatalogError:
        return CatalogError(self.path, message, entry, field)

    def text(self, table: Mapping[str, Any], key: str, entry: str, required: bool = True) -> str:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail("this field is missing", entry, key)
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail("this field must be non-empty text", entry, key)
        return value.strip()

    def ident(self, value: object, entry: str, field: str) -> str:
        if not isinstance(value, str) or not value or not set(value) <= _ID_CHARS:
            raise self.fail("an identifier is lower-case letters, digits, '-', '_' or '.'", entry, field)
        return value

    def issuers(self, table: Mapping[str, Any], entry: str) -> tuple[ExpectedIssuer, ...]:
        value = table.get("expected_issuers", [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("this must be a list of texts", entry, "expected_issuers")
        found = []
        for i, text in enumerate(value):
            try:
                found.append(parse_expected_issuer(text))
            except ValueError as exc:
                raise self.fail(f"entry {i + 1} ({text!r}): {exc}", entry, "expected_issuers") from None
        return tuple(found)

    def table(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise self.fail("this must be a table", key)
        return value

    def read(self, built_in: bool) -> _Parsed:
        allowed = {"catalog", "environments", "applications", "endpoints", "contacts"}
        for key in self.data:
            if key not in allowed:
                raise self.fail(f"unknown section (allowed: {', '.join(sorted(allowed))})", key)
        head = self.table("catalog")
        version = self.text(head, "version", "catalog", required=built_in)
        mode = self.text(head, "mode", "catalog", required=False) or "add"
        if mode not in ("add", "replace"):
            raise self.fail("must be 'add' or 'replace'", "catalog", "mode")
        environments = {}
        for env_id, body in self.table("environments").items():
            entry = f"environments.{env_id}"
            self.ident(env_id, entry, "id")
            if not isinstance(body, dict):
                raise self.fail("this must be a table", entry)
            practice = body.get("practice", False)
            if not isinstance(practice, bool):
                raise self.fail("must be true or false", entry, "practice")
            unknown = set(body) - {"name", "description", "note", "practice", "expected_issuers"}
            if unknown:
                raise self.fail("unknown field", entry, sorted(unknown)[0])
            environments[env_id] = Environment(
                env_id,
                self.text(body, "name", entry),
                self.text(body, "description", entry, False),
                self.text(body, "note", entry, False),
                practice,
                self.issuers(body, entry),
            )
        applications = {}
        for app_id, body in self.table("applications").items():
            entry = f"applications.{app_id}"
            self.ident(app_id, entry, "id")
            if not isinstance(body, dict):
                raise self.fail("this must be a table", entry)
            unknown = set(body) - {"name", "description", "expected_issuers"}
            if unknown:
                raise self.fail("unknown field", entry, sorted(unknown)[0])
            applications[app_id] = Application(
                app_id,
                self.text(body, "name", entry),
                self.text(body, "description", entry, False),
                self.issuers(body, entry),
            )
        raw_endpoints = self.data.get("endpoints", [])
        if not isinstance(raw_endpoints, list):
            raise self.fail("this must be an array of tables ([[endpoints]])", "endpoints")
        endpoints = [self.endpoint(i, body) for i, body in enumerate(raw_endpoints)]
        seen: set[str] = set()
        for i, e in enumerate(endpoints):
            if e.id in seen:
                raise self.fail(f"the id '{e.id}' is used twice", f"endpoints[{i}]", "id")
            seen.add(e.id)
        return _Parsed(self.path, version, mode, environments, applications, endpoints, self.contacts())

    def contacts(self) -> dict[str, Contact]:
        found = {}
        for kind, body in self.table("contacts").items():
            entry = f"contacts.{kind}"
            if kind not in CONTACT_KINDS:
                raise self.fail(f"unknown contact (allowed: {', '.join(CONTACT_KINDS)})", entry)
            if not isinstance(body, dict):
                raise self.fail("this must be a table", entry)
            unknown = set(body) - {"name", "phone", "email", "page", "note"}
            if unknown:
                raise self.fail("unknown field", entry, sorted(unknown)[0])
            email = self.text(body, "email", entry, False)
            if email and ("@" not in email or " " in email):
                raise self.fail("this is not an e-mail address", entry, "email")
            page = self.text(body, "page", entry, False)
            if page and not page.startswith(("https://", "http://")):
                raise self.fail("a web page starts with https://", entry, "page")
            found[kind] = Contact(
                kind,
                self.text(body, "name", entry),
                self.text(body, "phone", entry, False),
                email,
                page,
                self.text(body, "note", entry, False),
            )
        return found

    def endpoint(self, index: int, body: object) -> Endpoint:
        from app.core.scenarios import SCENARIO_NAMES  # the names only; no server code

        entry = f"endpoints[{index}]"
        if not isinstance(body, dict):
            raise self.fail("this must be a table", entry)
        known = {
            "id",
            "environment",
            "application",
            "name",
            "url",
            "lab",
            "client_certificate",
            "source",
            "confidence",
            "checked_by_default",
            "timeout",
            "note",
            "expected_issuers",
        }
        ep_id = self.ident(body.get("id"), entry, "id")
        entry = f"endpoints[{index}] ({ep_id})"
        for key in body:
            if key not in known:
                raise self.fail(f"unknown field (allowed: {', '.join(sorted(known))})", entry, key)
        url = self.text(body, "url", entry, required=False)
        lab = self.text(body, "lab", entry, required=False)
        if bool(url) == bool(lab):
            raise self.fail("give exactly one of 'url' or 'lab'", entry, "url")
        if url:
            try:
                url = parse_address(url).url
            except AddressError as exc:
                raise self.fail(str(exc), entry, "url") from None
        if lab and lab not in SCENARIO_NAMES:
            raise self.fail(f"unknown practice scenario (known: {', '.join(sorted(SCENARIO_NAMES))})", entry, "lab")
        expectation = body.get("client_certificate", "unknown")
        try:
            expectation = ClientCertExpectation(expectation)
        except ValueError:
            choices = ", ".join(e.value for e in ClientCertExpectation)
            raise self.fail(f"must be one of: {choices}", entry, "client_certificate") from None
        confidence = body.get("confidence", "stated")
        if confidence not in ("stated", "inferred"):
            raise self.fail("must be 'stated' or 'inferred'", entry, "confidence")
        default = body.get("checked_by_default", True)
        if not isinstance(default, bool):
            raise self.fail("must be true or false", entry, "checked_by_default")
        timeout = body.get("timeout")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300
        ):
            raise self.fail("must be a number of seconds from 0 to 300", entry, "timeout")
        return Endpoint(
            id=ep_id,
            environment=self.ident(body.get("environment"), entry, "environment"),
            application=self.ident(body.get("application"), entry, "application"),
            name=self.text(body, "name", entry),
            url=url,
            lab=lab,
            client_certificate=expectation,
            source=self.text(body, "source", entry),
            confidence=confidence,
            checked_by_default=default,
            timeout=float(timeout) if timeout is not None else None,
            note=self.text(body, "note", entry, required=False),
            expected_issuers=self.issuers(body, entry),
            defined_in=self.path,
            entry=entry,
        )


def merge(base: Catalog, extra: _Parsed) -> Catalog:
    """Combine the built-in catalog with an IT department's: ``add`` overrides entries with the same id and
    adds the rest; ``replace`` uses the other catalog alone. References are checked on the result."""
    envs, apps, eps, files, version = (
        dict(base.environments),
        dict(base.applications),
        list(base.endpoints),
        base.files,
        base.version,
    )
    contacts = {**base.contacts, **extra.contacts}  # the ISO's own stay unless replaced on purpose
    if extra.mode == "replace":
        envs, apps, eps, files = {}, {}, [], ()
    envs = {**envs, **extra.environments}
    apps = {**apps, **extra.applications}
    by_id = {e.id: e for e in eps}
    for e in extra.endpoints:
        by_id[e.id] = e
    version = f"{version}+{extra.version}" if extra.version and extra.mode == "add" else (extra.version or version)
    merged = Catalog(version or "custom", (*files, extra.path), envs, apps, tuple(by_id.values()), contacts)
    return _checked(merged, extra.path)


def build(parsed: _Parsed) -> Catalog:
    """A catalog from one file, references checked."""
    return _checked(
        Catalog(
            parsed.version,
            (parsed.path,),
            parsed.environments,
            parsed.applications,
            tuple(parsed.endpoints),
            parsed.contacts,
        ),
        parsed.path,
    )


def _checked(catalog: Catalog, path: str) -> Catalog:
    if not catalog.environments:
        raise CatalogError(path, "the catalog has no environment")
    endpoints = []
    for e in catalog.endpoints:
        where = e.defined_in or path
        if e.environment not in catalog.environments:
            raise CatalogError(where, f"no environment '{e.environment}' is defined", e.entry, "environment")
        if e.application not in catalog.applications:
            raise CatalogError(where, f"no application '{e.application}' is defined", e.entry, "application")
        if e.lab and not catalog.environments[e.environment].practice:
            raise CatalogError(where, "'lab' entries belong to a practice environment", e.entry, "lab")
        inherited = (
            *catalog.applications[e.application].expected_issuers,
            *catalog.environments[e.environment].expected_issuers,
        )
        issuers = tuple(dict.fromkeys((*e.expected_issuers, *inherited)))
        endpoints.append(dataclasses.replace(e, expected_issuers=issuers) if issuers != e.expected_issuers else e)
    return dataclasses.replace(catalog, endpoints=tuple(endpoints))


def targets_for(
    endpoints: Iterable[Endpoint],
    lab_urls: Mapping[str, str] | None = None,
    lab_anchors: TrustAnchors | None = None,
    lab_company: TrustAnchors | None = None,
) -> list[Target]:
    """Turn catalog entries into targets; practice entries take their address from the running lab, and trust its
    authority (and, for the checks with this computer's store, its practice company's)."""
    targets = []
    for e in endpoints:
        company = None
        if e.lab:
            if lab_urls is None:
                raise SelectionError("The practice lab is not running.")
            address, anchors, company = parse_address(lab_urls[e.lab]), lab_anchors, lab_company
        else:
            address, anchors = e.address, None
        targets.append(
            Target(
                e.id,
                e.name,
                address,
                e.environment,
                e.application,
                e.client_certificate,
                e.source,
                e.timeout,
                anchors,
                e.expected_issuers,
                company,
            )
        )
    return targets


def load_builtin() -> Catalog:
    """The built-in catalog alone."""
    return build(parse_catalog_file(required_resource(BUILT_IN)))
