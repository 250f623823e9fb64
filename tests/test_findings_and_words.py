import re
from pathlib import Path

import pytest

from app.core.findings import STATUS_OF, Check, Code, Finding, Status, Verdict, overall_verdict, verdict_of
from app.core.resources import resource_path
from app.core.words import load_words, placeholders, words_for

# Every value any check puts into a finding's params; the words may use only these.
KNOWN_PARAMS = {
    "host",
    "hosts",
    "port",
    "proxy",
    "version",
    "minimum",
    "install_page",
    "notice",
    "windows",
    "why",
    "path",
    "source",
    "how",
    "script",
    "set_by",
    "ms",
    "addresses",
    "cipher",
    "versions",
    "subject",
    "issuer",
    "days",
    "until",
    "from",
    "names",
    "status",
    "reason",
    "with_cert",
    "cas",
    "file",
    "whose",
    "this_time",
    "servers_time",
    "difference",
    "variant",
    "expected",
    "seen",
}
REQUIRED_BY_ISSUE = [
    "DNS_NOT_FOUND",
    "TCP_REFUSED",
    "TCP_TIMEOUT",
    "CONNECTION_RESET",
    "NOT_TLS",
    "HANDSHAKE_TIMEOUT",
    "HANDSHAKE_FAILED",
    "TLS12_OK",
    "TLS13_OK",
    "TLS12_REFUSED",
    "LEGACY_TLS_ACCEPTED",
    "LEGACY_TLS_REFUSED",
    "CERT_OK",
    "CERT_EXPIRED",
    "CERT_NOT_YET_VALID",
    "CERT_EXPIRING_SOON",
    "CERT_NAME_MISMATCH",
    "CERT_UNTRUSTED",
    "CERT_SELF_SIGNED",
    "CERT_WEAK_SIGNATURE",
    "CERT_WEAK_KEY",
    "CLIENT_CERT_REQUIRED",
    "CLIENT_CERT_OK",
    "CLIENT_CERT_REJECTED",
    "CLIENT_CERT_EXPIRED",
    "CLIENT_CERT_BAD_PASSWORD",
    "CLIENT_CERT_UNREADABLE",
    "HTTP_FORBIDDEN",
    "HTTP_OK",
]


def test_every_code_has_words_and_a_status():
    words = load_words()
    for code in Code:
        assert code.value in words, f"{code} has no entry in explanations.toml"
        assert code in STATUS_OF
    assert set(words) == {c.value for c in Code}, "explanations.toml has entries for unknown codes"


def test_the_issue_codes_exist():
    assert set(REQUIRED_BY_ISSUE) <= {c.value for c in Code}


def test_words_use_only_known_placeholders():
    for code, entry in load_words().items():
        wordings = [("", entry), *((f".{k}", v) for k, v in entry.items() if isinstance(v, dict))]
        for label, words in wordings:
            for field in ("title", "explanation", "action"):
                unknown = placeholders(words[field]) - KNOWN_PARAMS
                assert not unknown, f"{code}{label}.{field} uses {unknown}"


def test_a_variant_picks_its_own_words_and_an_unknown_one_the_usual():
    plain = words_for(Code.CERT_EXPIRED, {"host": "h", "until": "2026-01-01"})
    clock = words_for(Code.CERT_EXPIRED, {"host": "h", "until": "2026-01-01", "variant": "clock"})
    other = words_for(Code.CERT_EXPIRED, {"host": "h", "until": "2026-01-01", "variant": "no-such"})
    assert "clock is wrong" in clock.title and clock.action.startswith("First set this computer's date")
    assert plain == other and plain.title != clock.title


def test_problems_say_whom_to_contact():
    for code, status in STATUS_OF.items():
        if status is Status.FAIL:
            action = words_for(code).action
            assert re.search(
                r"IT department|User Access Administrator|the ISO|whoever|date and time|address", action
            ), code


def test_every_code_is_produced_somewhere():
    source = "\n".join(p.read_text() for p in Path("app").rglob("*.py"))
    for code in Code:
        assert f"Code.{code.name}" in source.replace(f'{code.name} = "{code.value}"', ""), f"{code} is never used"


def test_words_file_is_the_resource():
    assert resource_path("explanations.toml").is_file()


def test_verdicts():
    ok = Finding(Code.TLS12_OK, Check.TLS12)
    warn = Finding(Code.CERT_EXPIRING_SOON, Check.CERTIFICATE)
    fail = Finding(Code.CERT_EXPIRED, Check.CERTIFICATE)
    error = Finding(Code.INTERNAL_ERROR, Check.TLS12)
    cancelled = Finding(Code.CHECK_CANCELLED, Check.TLS12)
    assert verdict_of([ok, warn]) is Verdict.READY
    assert verdict_of([ok, fail, error]) is Verdict.ACTION_NEEDED
    assert verdict_of([ok, error]) is Verdict.COULD_NOT_CHECK
    assert verdict_of([ok, cancelled]) is Verdict.COULD_NOT_CHECK
    assert overall_verdict([]) is Verdict.COULD_NOT_CHECK
    assert overall_verdict([Verdict.READY, Verdict.COULD_NOT_CHECK]) is Verdict.COULD_NOT_CHECK
    assert overall_verdict([Verdict.READY, Verdict.ACTION_NEEDED, Verdict.COULD_NOT_CHECK]) is Verdict.ACTION_NEEDED


def test_missing_parameter_shows_a_question_mark_not_an_error():
    assert "?" in words_for(Code.CERT_EXPIRED, {}).explanation


GRADE = 8.0  # school grade: what a person with no IT background reads without help


def reading_grade(text: str) -> float:
    """The Flesch-Kincaid grade of ``text``, syllables counted by pyphen's English hyphenation (as textstat 0.7
    does, offline): 0.39 x words per sentence + 11.8 x syllables per word - 15.59."""
    import re

    pyphen = pytest.importorskip("pyphen")  # a test tool, not under Wine (the words are the same there)
    hyphenate = pyphen.Pyphen(lang="en_US")
    sentences = [s for s in re.split(r"[.!?]+(?:\s|$)", text) if s.strip()]
    words = re.findall(r"[A-Za-z0-9][A-Za-z0-9'-]*", text)
    syllables = sum(len(hyphenate.positions(w)) + 1 for w in words)
    return 0.39 * len(words) / max(1, len(sentences)) + 11.8 * syllables / max(1, len(words)) - 15.59


def test_reading_grade_counts_as_expected():
    assert reading_grade("The cat sat on the mat.") < 2
    long = "Notwithstanding considerable organizational complexity, authentication infrastructure necessitates interoperability."
    assert reading_grade(long) > 20


def test_every_finding_reads_at_grade_8_or_lower():
    """Title, explanation and action together, for every code and every variant, placeholders as one short word."""
    import re
    import tomllib

    from app.core.resources import resource_path

    table = tomllib.loads(resource_path("explanations.toml").read_text(encoding="utf-8"))
    too_hard = {}
    for code, words in table.items():
        for name, entry in [(code, words), *((f"{code}.{k}", v) for k, v in words.items() if isinstance(v, dict))]:
            text = f"{entry['title'].rstrip('.')}. {entry['explanation']} {entry['action']}"
            grade = reading_grade(re.sub(r"\{[a-z_]+\}", "it", text))
            if grade > GRADE:
                too_hard[name] = round(grade, 1)
    assert not too_hard, f"above school grade {GRADE:g}: {too_hard}"


# Capital words in the explanations that are names to pass on as they are, not words to learn.
PASSED_ON = {
    "ISO",  # the organisation the reader trades with
    "IT",  # the reader's IT department
    "WOW6432Node",  # the 32-bit half of the registry, read out to the IT department
    "KB3140245",  # a Windows update's number
    "R2",  # Windows Server 2008 R2
    "MAP-Stage",  # an environment's name
    # Registry values, read out to the IT department as they are written:
    "DisabledByDefault",
    "DefaultSecureProtocols",
    "SecureProtocols",
    "SchUseStrongCrypto",
    "SystemDefaultTlsVersions",
}


def test_every_term_of_the_glossary_reads_at_grade_8_or_lower_and_is_used():
    from app.core.words import load_glossary, terms_used

    used = terms_used(*_all_texts())
    for term in load_glossary():
        grade = reading_grade(f"{term.term}. {term.meaning}")
        assert grade <= GRADE, f"{term.term}: grade {grade:.1f}"
        assert term in used, f"{term.term}: no explanation uses it, so it would never be shown"


def test_every_capital_word_in_the_explanations_is_explained_or_a_name_passed_on():
    """Acronyms are jargon: each one the words use has a meaning in the glossary, shown beside it."""
    from app.core.words import terms_used

    unexplained = set()
    for text in _all_texts():
        said = re.sub(r"\S*\\\S*|(?<!\w)-\S+", "", text)  # paths (C:\\..., HKLM\\...) and options: as written
        for word in re.findall(r"(?<![\w.{-])\.?[A-Z][\w-]*[A-Z0-9][\w-]*(?<!-)", said):
            if word not in PASSED_ON and not terms_used(word):
                unexplained.add(word)
    assert not unexplained, f"explain these in glossary.toml, or pass them on knowingly: {sorted(unexplained)}"


def test_a_term_is_found_as_a_whole_word_once_in_the_order_of_first_use():
    from app.core.words import terms_used

    found = [t.term for t in terms_used("Your proxy said no.", "The TLS proxy and the private key.")]
    assert found == ["Proxy", "TLS", "Private key"]
    names = "my-proxy.pfx certificate.pem bundle.example.com proxy.example.com:8080 proxy:8080 C:\\Java\\bin"
    assert terms_used(names) == []  # names of files, servers and folders, not the words
    assert [t.term for t in terms_used("It goes through the proxy. Java: yes.")] == ["Proxy", "Java"]
    assert terms_used("The report is exported.", "tls in lower case is not the acronym") == []


def _all_texts() -> list[str]:
    """Every title, explanation and action of explanations.toml, variants included, placeholders left out."""
    import tomllib

    table = tomllib.loads(resource_path("explanations.toml").read_text(encoding="utf-8"))
    texts = []
    for words in table.values():
        for entry in [words, *(v for v in words.values() if isinstance(v, dict))]:
            texts += [re.sub(r"\{[a-z_]+\}", "", entry[f]) for f in ("title", "explanation", "action")]
    return texts


def test_the_text_summary_never_cuts_a_link():
    """Copy summary's text is pasted into e-mails: a link cut over two lines no longer opens."""
    from app.core.ads_client import INSTALL_PAGE, MARKET_NOTICE
    from app.core.computer.ads import ads_findings
    from app.core.model import RunReport
    from app.core.summary import render

    report = RunReport(targets=(), computer=tuple(ads_findings("6.0.10.2", None)))
    text = render(report)
    assert MARKET_NOTICE in text and INSTALL_PAGE in text, text


WINDOW_PLACES = ("File menu", "Choose...", "under Client certificate", "in Settings", "press Check", "Press Check")


def test_the_command_lines_words_name_no_window_place():
    """What the command line prints says where to act in its own terms (--bundle, --ca-file, --client-cert)."""
    from app.core.words import for_command_line, variants

    for code in Code:
        for variant in ("", *variants(code)):
            params = {"variant": variant} if variant else {}
            action = for_command_line(words_for(code, params).action)
            left = [p for p in WINDOW_PLACES if p in action]
            assert not left, f"{code.value}{'.' + variant if variant else ''}: {left} in {action!r}"
