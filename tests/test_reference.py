"""Run references and support codes."""

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.findings import CODE_NUMBERS, STATUS_OF, Code, Verdict
from app.core.reference import (
    ALPHABET,
    MAX_KINDS,
    MAX_LENGTH,
    SUPPORTED_STATUSES,
    SupportCodeError,
    SupportSummary,
    _fitting,
    decode,
    encode,
    new_reference,
)

LOOK_ALIKES = set("01ILOU")
FAILING = sorted((c for c in Code if STATUS_OF[c] in SUPPORTED_STATUSES), key=CODE_NUMBERS.__getitem__)


def test_code_numbers_are_unique_and_complete():
    assert set(CODE_NUMBERS) == set(Code)
    assert len(set(CODE_NUMBERS.values())) == len(CODE_NUMBERS)
    assert min(CODE_NUMBERS.values()) >= 1


def test_references_avoid_look_alikes():
    seen = {new_reference() for _ in range(500)}
    assert len(seen) == 500
    for ref in seen:
        assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", ref), ref
        assert not set(ref) & LOOK_ALIKES
    assert len(ALPHABET) == len(set(ALPHABET)) == 30 and not set(ALPHABET) & LOOK_ALIKES


@st.composite
def summaries(draw):
    """A summary as a run makes one: its causes are what fits in a code of 12 characters."""
    targets = draw(st.integers(0, 3000))
    ranked = draw(st.lists(st.sampled_from(FAILING), unique=True, max_size=20))
    verdict = draw(st.sampled_from(list(Verdict)))
    causes = _fitting(verdict, targets, ranked)
    return SupportSummary(verdict, targets, causes, len(ranked))


@settings(max_examples=300)
@given(summaries())
def test_decode_reverses_encode_in_twelve_characters_at_most(summary):
    code = encode(summary)
    assert len(code.replace("-", "")) <= MAX_LENGTH, code
    expected = dataclasses.replace(summary, kinds=min(summary.kinds, MAX_KINDS))
    assert decode(code) == expected
    assert decode(code.lower().replace("-", " ")) == expected  # read aloud, typed any way
    assert not set(code.replace("-", "")) & LOOK_ALIKES


@settings(max_examples=200)
@given(summaries(), st.data())
def test_one_wrong_character_is_noticed(summary, data):
    code = encode(summary).replace("-", "")
    index = data.draw(st.integers(0, len(code) - 1))
    replacement = data.draw(st.sampled_from([c for c in ALPHABET if c != code[index]]))
    typo = code[:index] + replacement + code[index + 1 :]
    try:
        decoded = decode(typo)
    except SupportCodeError:
        return
    pytest.fail(f"{typo} decoded to {decoded} instead of being refused")


@given(st.text(max_size=40))
def test_any_text_decodes_or_gets_a_sentence(text):
    try:
        decode(text)
    except SupportCodeError as error:
        assert str(error).endswith((".", "again.", "it."))


def test_summary_of_a_real_run(practice_report):
    summary = SupportSummary.from_report(practice_report)
    code = encode(summary)
    assert len(code.replace("-", "")) <= MAX_LENGTH, code
    assert summary.verdict is Verdict.ACTION_NEEDED and summary.targets == len(practice_report.targets)
    failing = {f.code for t in practice_report.targets for f in t.findings if f.status in SUPPORTED_STATUSES}
    assert summary.kinds == len(failing | {f.code for f in practice_report.computer if f.status in SUPPORTED_STATUSES})
    assert summary.causes and set(summary.causes) <= failing | {f.code for f in practice_report.computer}
    assert decode(code) == dataclasses.replace(summary, kinds=min(summary.kinds, MAX_KINDS))
    assert practice_report.reference


def test_a_run_of_200_addresses_still_reads_aloud_in_12_characters(practice_report):
    many = dataclasses.replace(practice_report, targets=practice_report.targets * 7)  # 217 addresses
    code = encode(SupportSummary.from_report(many))
    assert len(many.targets) > 200 and len(code.replace("-", "")) <= MAX_LENGTH
    assert decode(code).targets == len(many.targets)


def test_the_cause_that_touches_most_addresses_comes_first():
    from app.core.addresses import parse_address
    from app.core.findings import Check, Finding
    from app.core.model import RunReport, Target, TargetReport

    def target(n: int, *codes: Code) -> TargetReport:
        url = f"https://a{n}.example/"
        return TargetReport(Target(url, url, parse_address(url)), tuple(Finding(c, Check.TLS12) for c in codes))

    report = RunReport(
        targets=(target(1, Code.CERT_EXPIRED), *(target(n, Code.PROXY_AUTH_REQUIRED) for n in range(2, 25))),
        computer=(Finding(Code.ADS_CLIENT_OUTDATED, Check.ADS_CLIENT),),
    )
    summary = SupportSummary.from_report(report)
    # This computer's own problem first, then the proxy (23 addresses), then the one expired certificate.
    assert summary.causes == (Code.ADS_CLIENT_OUTDATED, Code.PROXY_AUTH_REQUIRED, Code.CERT_EXPIRED)
    assert decode(encode(summary)) == summary


def test_a_code_of_the_first_format_still_decodes():
    """Made by version 0.1 (every address's codes): what the README showed then."""
    old = decode("33A4-53J7-7385")
    assert old.verdict is Verdict.ACTION_NEEDED and old.targets == 8 and Code.CERT_EXPIRED in old.causes


CODE_NUMBERS_FILE = Path(__file__).resolve().parents[1] / "docs" / "code-numbers.txt"


def _numbered(text: str) -> list[tuple[int, str]]:
    rows = []
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            number, name = line.split()
            rows.append((int(number), name))
    return rows


def test_code_numbers_are_frozen_in_an_append_only_file():
    """Each code's number is the one written in docs/code-numbers.txt, which only ever grows: a number read from
    an older version's support code means the same code."""
    rows = _numbered(CODE_NUMBERS_FILE.read_text(encoding="utf-8"))
    assert [n for n, _ in rows] == list(range(1, len(rows) + 1)), "numbers must run 1, 2, 3... without gaps"
    written = {name: n for n, name in rows}
    assert {c.value: n for c, n in CODE_NUMBERS.items()} == written, "findings.CODES and the file disagree"


def test_code_numbers_file_only_grows_in_git_history():
    import shutil
    import subprocess

    root = CODE_NUMBERS_FILE.parents[1]
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        pytest.skip("no git history here")
    path = CODE_NUMBERS_FILE.relative_to(root).as_posix()
    log = subprocess.run([git, "log", "--format=%H", "--", path], cwd=root, capture_output=True, text=True, check=True)
    current = _numbered(CODE_NUMBERS_FILE.read_text(encoding="utf-8"))
    for commit in log.stdout.split():
        shown = subprocess.run([git, "show", f"{commit}:{path}"], cwd=root, capture_output=True, text=True, check=False)
        if shown.returncode == 0:
            earlier = _numbered(shown.stdout)
            assert current[: len(earlier)] == earlier, f"{commit[:8]} numbered codes otherwise"
