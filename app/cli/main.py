"""The command line: ``tls-readiness check | lab | catalog``.

Exit status: 0 when every endpoint is ready, 1 when problems were found (or something could not be checked),
2 for input that cannot be used (one plain sentence on stderr, never a traceback), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from app import __version__
from app.core.ads_client import VersionError, parse_version
from app.core.catalog import Catalog, load_catalog, user_catalog_path
from app.core.checks.client_cert import (
    ClientCertificate,
    ClientCertProblem,
    certificate_from_store,
    load_client_certificate,
)
from app.core.computer import cert_store
from app.core.computer.cert_store import CertStore, is_store_choice, parse_store_choice
from app.core.computer.checks import ComputerSettings
from app.core.crash import (
    crash_sentence,
    enable_native_crash_traces,
    native_crash_sentence,
    register_secret,
    write_crash_report,
)
from app.core.errors import InputError, InstallationDamaged
from app.core.findings import Code, Verdict
from app.core.log import setup_logging
from app.core.model import CheckSettings
from app.core.plan import plan_targets
from app.core.proxy import parse_proxy
from app.core.report_json import report_json
from app.core.runner import Run
from app.core.summary import render, render_support_code
from app.core.tls_contexts import load_trust_file
from app.core.words import load_words

if TYPE_CHECKING:
    from app.lab import PracticeLab

# Modules only some commands need (the bundle, the practice lab, support codes, the password prompt) are
# imported where they are used: the check a person runs loads some 20 ms less before it starts.

EXIT_READY, EXIT_PROBLEMS, EXIT_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CRASH = 70  # EX_SOFTWARE: a fault inside the program (a crash report is written)
MAX_TIMEOUT = 300.0


class UsageError(InputError):
    """A mistake in the command line's words (unknown option, bad value)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake becomes one sentence (and exit status 2) written by :func:`main`."""

    def error(self, message: str) -> NoReturn:
        sentence = message[0].upper() + message[1:]
        raise UsageError(f"{sentence.rstrip('.')}. See '{self.prog} --help'.")


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = _Parser(
        prog="tls-readiness",
        description="Checks that this computer can reach the California ISO's "
        "market systems over TLS 1.2, and says in plain words what to do when it cannot.",
    )
    parser.add_argument("--version", action="version", version=f"TLS Readiness Checker {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="prove that this installation works (practice lab, a check, the reports, the window; no network)",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    check = sub.add_parser(
        "check",
        help="check environments, applications or addresses",
        description="Check the ISO's addresses from this computer.",
    )
    check.add_argument("--env", metavar="ID", help="environment: production, map-stage or practice")
    check.add_argument(
        "--app",
        metavar="ID",
        action="append",
        default=[],
        help="application (repeatable): ads, cmri, oms, mpp, oasis, crr, developer",
    )
    check.add_argument("--url", metavar="URL", action="append", default=[], help="an https address (repeatable)")
    check.add_argument(
        "--all-addresses",
        action="store_true",
        help="also check the addresses kept for reference (older or unconfirmed sources)",
    )
    check.add_argument("--catalog", metavar="PATH", help="a catalog file from your IT department")
    check.add_argument(
        "--ca-file",
        metavar="PEM",
        action="append",
        default=[],
        help="extra trusted certificates, such as a company root: PEM, DER (.cer) or a Java trust store such as"
        " cacerts (repeatable)",
    )
    check.add_argument(
        "--client-cert",
        metavar="PATH",
        help="your ISO certificate: a file (.p12, .pfx, .pem or a Java .jks), or on Windows store:THUMBPRINT from"
        " this computer's certificate store (store: lists them)",
    )
    check.add_argument(
        "--client-cert-alias",
        metavar="NAME",
        help="which certificate to use from a Java key store (.jks) that holds several",
    )
    check.add_argument(
        "--client-cert-password-env",
        metavar="VAR",
        help="name of an environment variable holding the certificate's password",
    )
    check.add_argument("--timeout", metavar="SECONDS", type=_timeout, help="time limit per step (default 10)")
    check.add_argument(
        "--ads-version",
        metavar="X.Y.Z.W",
        help="the version of your ADS client (in ADS: Help > About), if it is not found automatically",
    )
    check.add_argument("--skip-java", action="store_true", help="do not test the connections through Java")
    check.add_argument(
        "--skip-system-tls",
        action="store_true",
        help="do not test the connections through this computer's own TLS (curl)",
    )
    check.add_argument("--proxy", metavar="URL", help="go through this HTTP proxy: http://[user:password@]host:port")
    check.add_argument("--json", action="store_true", help="print the report as JSON (docs/report-format.md)")
    check.add_argument(
        "--bundle",
        metavar="PATH.zip",
        help="also write a diagnostic bundle for support (a .zip file, or a folder for the default name)",
    )
    check.add_argument("-v", "--verbose", action="store_true", help="show every check and its technical details")

    lab = sub.add_parser(
        "lab",
        help="run the practice servers on this computer until Ctrl+C",
        description="Run the practice lab's servers on 127.0.0.1 until Ctrl+C.",
    )
    lab.add_argument(
        "--port-base",
        metavar="PORT",
        type=_port_base,
        help="use fixed ports from PORT upwards (default: any free ports)",
    )
    lab.add_argument(
        "--export",
        metavar="DIR",
        help="write the lab's authority (practice-ca.pem) and a practice client certificate "
        "(practice-client.p12, password 'practice') into DIR",
    )
    lab.add_argument(  # for the benchmark: its latency proxy stands in front of the authority
        "--authority-url", metavar="URL", default="", help=argparse.SUPPRESS
    )

    decode = sub.add_parser(
        "decode",
        help="expand a support code into plain explanations",
        description="Expand a support code (read out by a user) into plain explanations.",
    )
    decode.add_argument("code", nargs="+", help="the support code (its groups may be given as separate words)")

    catalog = sub.add_parser(
        "catalog",
        help="list the environments, applications and addresses known",
        description="List what the catalog holds.",
    )
    catalog.add_argument("--env", metavar="ID", help="only this environment")
    catalog.add_argument("--catalog", metavar="PATH", help="a catalog file from your IT department")
    return parser


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the timeout '{text}' is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0 or value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"the timeout must be more than 0 and at most {MAX_TIMEOUT:.0f} seconds")
    return value


def _port_base(text: str) -> int:
    if not text.isdigit() or not 1024 <= int(text) <= 65000:
        raise argparse.ArgumentTypeError("the port base must be a number from 1024 to 65000")
    return int(text)


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line and return the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    for stream in (out, err):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.self_test:
            from app.selftest import run_self_test

            return run_self_test(out)
        if args.command in ("check", "lab"):
            setup_logging()
            earlier = enable_native_crash_traces()
            if earlier is not None:
                err.write(f"tls-readiness: {native_crash_sentence(earlier)}\n")
        if args.command == "check":
            return _check(args, out, err)
        if args.command == "lab":
            return _lab(args, out)
        if args.command == "catalog":
            return _catalog(args, out)
        if args.command == "decode":
            code = "-".join(args.code).upper()
            from app.core.reference import decode as decode_support_code

            out.write(render_support_code(code, decode_support_code(code)))
            return EXIT_READY
    except InputError as exc:
        err.write(f"tls-readiness: {exc}\n")
        return EXIT_INPUT
    except InstallationDamaged as exc:  # not the user's doing, and not a bug to report: one sentence
        err.write(f"tls-readiness: {exc}\n")
        return EXIT_CRASH
    except KeyboardInterrupt:
        err.write("tls-readiness: interrupted.\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a fault of ours: a crash report and one sentence instead of a traceback
        err.write(f"tls-readiness: {crash_sentence(write_crash_report(type(exc), exc, exc.__traceback__))}\n")
        return EXIT_CRASH
    parser.print_help(out)
    return EXIT_INPUT


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.client_cert and is_store_choice(args.client_cert) and not parse_store_choice(args.client_cert):
        return _list_store(out)  # --client-cert store: lists what can be chosen
    if args.app and not args.env:
        raise InputError("--app needs --env to say in which environment (for example --env production --app ads).")
    if not args.env and not args.url:
        raise InputError("Choose what to check: --env production, --env map-stage, --env practice, or --url ADDRESS.")
    bundle_target = None
    if args.bundle:
        from app.core.bundle import resolve_bundle_path

        bundle_target = resolve_bundle_path(args.bundle)  # a bad path fails before the run
    catalog = load_catalog(args.catalog)
    proxy = parse_proxy(args.proxy) if args.proxy else None
    register_secret(proxy.password if proxy else "")
    settings = CheckSettings(
        timeout=args.timeout,
        extra_trust=tuple(load_trust_file(p) for p in args.ca_file),
        client_cert=_client_cert(args),
        proxy=proxy,
        computer=ComputerSettings(
            ads_version=_ads_version(args.ads_version),
            java=not args.skip_java,
            os_stack=not args.skip_system_tls,
        ),
    )
    env = catalog.environment(args.env) if args.env else None
    labs: list[PracticeLab] = []

    def lab_provider() -> PracticeLab:
        from app.lab import start_lab

        labs.append(start_lab())
        return labs[-1]

    try:
        targets = plan_targets(catalog, args.env, args.app, args.url, args.all_addresses, lab_provider)
        if env is not None and env.note and not args.json:
            err.write(f"Note: {env.note}\n")
        run = Run(targets, settings, environment=env.id if env else "")
        run.start()
        try:
            with contextlib.suppress(Exception):  # a fault here is met, and reported, where the words are used
                load_words()  # for the report, while the check waits for the network
            while (report := run.wait(0.2)) is None:
                pass
        except KeyboardInterrupt:
            run.cancel()
            report = run.wait(5)
            if report is None:
                raise
    finally:
        for lab in labs:
            lab.stop()
    names = {a.id: a.name for a in catalog.applications.values()}
    if args.json:
        out.write(report_json(report, catalog.version) + "\n")
    else:
        out.write(
            render(report, env.name if env else "", names, args.verbose, command_line=True, contacts=catalog.contacts)
        )
    if bundle_target is not None:
        from app.core.bundle import BundleContext, default_bundle_name, write_bundle

        path = bundle_target / default_bundle_name(report) if bundle_target.is_dir() else bundle_target
        context = BundleContext(
            catalog_version=catalog.version,
            environment_name=env.name if env else "",
            application_names=names,
            settings=_settings_facts(args, settings),
            contacts=catalog.contacts,
        )
        result = write_bundle(path, report, context)
        err.write(f"Diagnostic bundle for support: {result.path}\n")
    if report.cancelled:
        return EXIT_INTERRUPTED
    return EXIT_READY if report.verdict is Verdict.READY else EXIT_PROBLEMS


def _ads_version(text: str | None) -> str:
    if not text:
        return ""
    try:
        parse_version(text)
    except VersionError as exc:
        raise InputError(f"--ads-version: {exc}") from None
    return text


def _settings_facts(args: argparse.Namespace, settings: CheckSettings) -> dict[str, object]:
    """The settings of a run as plain facts for the bundle (file names only; never a password)."""
    cert = settings.client_cert
    return {
        "time_limit_seconds": settings.timeout or "per address (10 by default)",
        "extra_trusted_certificates": [a.label for a in settings.extra_trust],
        "client_certificate": (cert.name if isinstance(cert, ClientCertificate) else Path(cert.path).name)
        if cert is not None
        else None,
        "catalog": args.catalog or "built-in",
        "all_addresses": args.all_addresses,
        "proxy": settings.proxy.display if settings.proxy else None,
    }


def _windows_store() -> CertStore:
    store = cert_store.this_computers_store()
    if store is None:
        raise InputError(
            "Windows' certificate store is only on Windows; here, give the certificate as a file"
            " (--client-cert FILE.p12)."
        )
    return store


def _list_store(out: TextIO) -> int:
    found = cert_store.client_certificates(_windows_store())
    if not found:
        out.write(
            "This computer's certificate store (Personal, for you and for the computer) holds no certificate that"
            " can identify you to a server.\nIf you have your ISO certificate as a .pfx file, give it with"
            " --client-cert FILE.pfx.\n"
        )
        return EXIT_READY
    out.write("Certificates on this computer that can identify you (use one with --client-cert store:THUMBPRINT):\n")
    keys = {
        cert_store.KeyState.EXPORTABLE: "key can be exported",
        cert_store.KeyState.NOT_EXPORTABLE: "key cannot be exported",
        cert_store.KeyState.PRESENT: "key present",
    }
    for cert in found:
        out.write(f"\n  store:{cert.thumbprint}\n    {cert.label()}\n    {cert.location}\\MY, {keys[cert.key]}\n")
    return EXIT_READY


def _store_client_cert(args: argparse.Namespace) -> ClientCertificate | ClientCertProblem:
    if args.client_cert_password_env or args.client_cert_alias:
        raise InputError(
            "A certificate in Windows' store needs no password or alias: Windows keeps its key"
            " (leave out --client-cert-password-env and --client-cert-alias)."
        )
    thumbprint = parse_store_choice(args.client_cert)
    entry = cert_store.find_certificate(_windows_store(), thumbprint)
    if entry is None:
        raise InputError(
            f"This computer's certificate store has no certificate with the thumbprint {thumbprint};"
            " --client-cert store: lists those it has."
        )
    return certificate_from_store(entry)


def _client_cert(args: argparse.Namespace) -> ClientCertificate | ClientCertProblem | None:
    if not args.client_cert:
        if args.client_cert_password_env:
            raise InputError("--client-cert-password-env needs --client-cert (the certificate file).")
        if args.client_cert_alias:
            raise InputError("--client-cert-alias needs --client-cert (the key store file).")
        return None
    if is_store_choice(args.client_cert):
        return _store_client_cert(args)
    path = Path(args.client_cert)
    if not path.is_file():  # as for --ca-file: a file that is not there is a typing mistake, said in one sentence
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise InputError(f"The certificate file {args.client_cert} {what} (--client-cert).")
    password: str | None = None
    if args.client_cert_password_env:
        var = args.client_cert_password_env
        if var not in os.environ:
            raise InputError(f"The environment variable {var} (for the certificate's password) is not set.")
        password = os.environ[var]
    elif sys.stdin is not None and sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"Password for {Path(args.client_cert).name} (press Enter if it has none): ")
    register_secret(password or "")  # no crash report may ever show it
    cert = load_client_certificate(args.client_cert, password, args.client_cert_alias or "")
    if isinstance(cert, ClientCertProblem) and cert.code is Code.CLIENT_CERT_CHOOSE_ONE:
        names = ", ".join(cert.aliases)
        if args.client_cert_alias:
            raise InputError(
                f"The key store {path.name} has no certificate named {args.client_cert_alias}; it has: {names}"
                " (--client-cert-alias)."
            )
        raise InputError(
            f"The key store {path.name} holds several certificates: {names}. Say which one with --client-cert-alias."
        )
    return cert


def _lab(args: argparse.Namespace, out: TextIO) -> int:
    from app.core.scenarios import SCENARIOS

    folder = _export_folder(args.export) if args.export else None  # a bad folder fails before the lab starts
    if args.authority_url and not args.authority_url.startswith("http://"):
        raise InputError(
            f"--authority-url {args.authority_url}: give an http:// address (plain HTTP, as authorities use)."
        )
    from app.lab import start_lab

    lab = start_lab(args.port_base, args.authority_url)
    try:
        out.write("Practice lab running on this computer. Press Ctrl+C to stop.\n\n")
        for s in SCENARIOS:
            out.write(f"  {s.name:<22} {lab.url(s.name)}\n")
        out.write(f"\nIts authority (lists of withdrawn certificates, OCSP answers): {lab.authority_url}\n")
        if folder is not None:
            ca, client = folder / "practice-ca.pem", folder / "practice-client.p12"
            try:
                ca.write_text(lab.pki.ca.pem, encoding="ascii")
                client.write_bytes(lab.pki.client_p12("practice"))
            except OSError as exc:
                raise InputError(f"The files cannot be written in {folder} ({exc.strerror or exc}).") from None
            out.write(f"\nWrote {ca} (use with --ca-file) and {client} (password: practice).\n")
            out.write(f"\nExample: tls-readiness check --url {lab.url('ready')} --ca-file {ca}\n")
        else:
            out.write(
                "\nThe lab's certificates change at every start; to check one server from another program, start"
                " the lab with --export FOLDER, which writes its authority (practice-ca.pem) for --ca-file.\n"
            )
        out.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return EXIT_READY
    finally:
        lab.stop()


def _export_folder(text: str) -> Path:
    """The folder for ``lab --export``, made when missing. Raises InputError in one sentence."""
    folder = Path(text)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--export {text}: that is a file, not a folder; give a folder for the lab's files.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--export {text}: the folder cannot be made ({exc.strerror or exc}).") from None
    return folder


def _catalog(args: argparse.Namespace, out: TextIO) -> int:
    catalog: Catalog = load_catalog(args.catalog)
    out.write(f"Catalog version {catalog.version} ({', '.join(catalog.files)})\n")
    out.write(f"Your own catalog, if any, goes in: {user_catalog_path()}\n")
    envs = [catalog.environment(args.env)] if args.env else list(catalog.environments.values())
    for env in envs:
        out.write(f"\n{env.name} (--env {env.id})\n")
        for app in catalog.applications_in(env.id):
            out.write(f"  {app.name} (--app {app.id})\n")
            for e in catalog.endpoints:
                if e.environment == env.id and e.application == app.id:
                    where = e.url or f"practice scenario '{e.lab}'"
                    extra = "" if e.checked_by_default else "  [only with --all-addresses]"
                    out.write(f"    {e.name}: {where}{extra}\n      source: {e.source} ({e.confidence})\n")
    return EXIT_READY


if __name__ == "__main__":
    raise SystemExit(main())
