"""Run references and support codes."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.findings import CODE_NUMBERS, STATUS_OF, Code, Verdict
from app.core.reference import (
    ALPHABET,
    SUPPORTED_STATUSES,
    SupportCodeError,
    SupportSummary,
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
    targets = draw(st.integers(0, 400))
    positions = draw(st.sets(st.integers(0, targets), max_size=30))
    problems = []
    for position in sorted(positions):
        codes = draw(st.sets(st.sampled_from(FAILING), min_size=1, max_size=6))
        problems.append((position, tuple(sorted(codes, key=CODE_NUMBERS.__getitem__))))
    verdict = draw(st.sampled_from(list(Verdict)))
    return SupportSummary(verdict, targets, tuple(problems))


@settings(max_examples=300)
@given(summaries())
def test_decode_reverses_encode(summary):
    code = encode(summary)
    assert decode(code) == summary
    assert decode(code.lower().replace("-", " ")) == summary  # read aloud, typed any way
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
    assert summary.verdict is Verdict.ACTION_NEEDED and summary.targets == len(practice_report.targets)
    expired = next(i for i, t in enumerate(practice_report.targets, 1) if t.target.id == "practice-expired")
    assert dict(summary.problems)[expired] == (Code.CERT_EXPIRED,)
    assert decode(encode(summary)) == summary
    assert practice_report.reference
