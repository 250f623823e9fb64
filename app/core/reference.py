"""Run references and support codes: short strings a person can read aloud over the phone.

A *reference* names one run (``K7QM-3XPA``): it is in the window, the reports and the bundle's file name.
A *support code* packs the run's verdict and the failing finding codes of each address, so a help desk can
expand it into the same plain explanations with ``tls-readiness decode CODE``.

Both use an alphabet without look-alikes (no 0/O, 1/I/L, U/V). A support code is a list of small numbers
written in base 30 (a digit from the first half ends a number, one from the second half continues it),
followed by a check character, in groups of four.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from app.core.errors import InputError
from app.core.findings import CODE_NUMBERS, Code, Status, Verdict
from app.core.model import RunReport

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 characters: no 0/O, 1/I/L, U (V)
_BASE = len(ALPHABET)
_HALF = _BASE // 2
FORMAT = 1
_VERDICTS = (Verdict.READY, Verdict.ACTION_NEEDED, Verdict.COULD_NOT_CHECK)
_CODE_OF_NUMBER = {n: c for c, n in CODE_NUMBERS.items()}
SUPPORTED_STATUSES = (Status.FAIL, Status.ERROR)
REFERENCE_LENGTH = 8


class SupportCodeError(InputError):
    """A support code that cannot be read (a typo, a missing part); the message is one plain sentence."""


def new_reference() -> str:
    """A fresh run reference, such as ``K7QM-3XPA`` (8 characters from the look-alike-free alphabet)."""
    letters = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


@dataclass(frozen=True)
class SupportSummary:
    """What a support code says.

    Attributes:
        verdict: the run's verdict.
        targets: how many addresses were checked.
        problems: for each address with a failing finding, its position in the run (1 = first; 0 = the run
            itself, such as the client certificate file) and its failing codes, both in ascending order.
    """

    verdict: Verdict
    targets: int
    problems: tuple[tuple[int, tuple[Code, ...]], ...] = ()

    @classmethod
    def from_report(cls, report: RunReport) -> SupportSummary:
        """The summary of a run: failing and could-not-check findings per address."""
        problems: list[tuple[int, tuple[Code, ...]]] = []
        run_codes = _failing((*report.findings, *report.computer))
        if run_codes:
            problems.append((0, run_codes))
        for position, target in enumerate(report.targets, start=1):
            codes = _failing(target.findings)
            if codes:
                problems.append((position, codes))
        return cls(report.verdict, len(report.targets), tuple(problems))


def _failing(findings: object) -> tuple[Code, ...]:
    codes = {f.code for f in findings if f.status in SUPPORTED_STATUSES}  # type: ignore[attr-defined]
    return tuple(sorted(codes, key=CODE_NUMBERS.__getitem__))


def encode(summary: SupportSummary) -> str:
    """The support code for a summary."""
    numbers = [FORMAT, _VERDICTS.index(summary.verdict), summary.targets, len(summary.problems)]
    for position, codes in summary.problems:
        numbers += [position, len(codes), *(CODE_NUMBERS[c] for c in codes)]
    body = "".join(_write_number(n) for n in numbers)
    body += ALPHABET[_check(body)]
    return "-".join(body[i : i + 4] for i in range(0, len(body), 4))


def decode(text: str) -> SupportSummary:
    """Read a support code back. Raises :class:`SupportCodeError` in plain words."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t\n")
    if not cleaned:
        raise SupportCodeError("The support code is empty.")
    bad = sorted({ch for ch in cleaned if ch not in ALPHABET})
    if bad:
        raise SupportCodeError(
            f"The support code has characters that are never used in one ({''.join(bad)}); check it again."
        )
    body, check = cleaned[:-1], cleaned[-1]
    if not body or ALPHABET[_check(body)] != check:
        raise SupportCodeError("The support code does not add up: a character is probably wrong or missing.")
    numbers = _read_numbers(body)
    try:
        version, verdict_index, targets, count, *rest = numbers
    except ValueError:
        raise SupportCodeError("The support code is too short.") from None
    if version != FORMAT:
        raise SupportCodeError(f"This support code was made by another version of the program (format {version}).")
    if verdict_index >= len(_VERDICTS):
        raise SupportCodeError("The support code holds an unknown verdict.")
    problems: list[tuple[int, tuple[Code, ...]]] = []
    for _ in range(count):
        if len(rest) < 2:
            raise SupportCodeError("The support code is too short.")
        position, k, *rest = rest
        if len(rest) < k or position > targets:
            raise SupportCodeError("The support code does not hang together.")
        numbers_of_codes, rest = rest[:k], rest[k:]
        try:
            codes = tuple(_CODE_OF_NUMBER[n] for n in numbers_of_codes)
        except KeyError:
            raise SupportCodeError(
                "The support code names a problem this version of the program does not know; update it."
            ) from None
        problems.append((position, codes))
    if rest:
        raise SupportCodeError("The support code has more in it than expected.")
    return SupportSummary(_VERDICTS[verdict_index], targets, tuple(problems))


def _write_number(n: int) -> str:
    if n < 0:
        raise ValueError("support codes hold no negative numbers")
    digits = [ALPHABET[n % _HALF]]
    n //= _HALF
    while n:
        digits.append(ALPHABET[_HALF + n % _HALF])
        n //= _HALF
    return "".join(reversed(digits))


def _read_numbers(body: str) -> list[int]:
    numbers, value = [], 0
    for ch in body:
        digit = ALPHABET.index(ch)
        if digit >= _HALF:
            value = value * _HALF + (digit - _HALF)
        else:
            numbers.append(value * _HALF + digit)
            value = 0
    if value:
        raise SupportCodeError("The support code stops in the middle of a number.")
    return numbers


# Weights coprime to 30: a single wrong character always changes the sum (a weight sharing a factor with 30,
# such as 15, would let some substitutions cancel out).
_WEIGHTS = (1, 7, 11, 13, 17, 19, 23, 29)


def _check(body: str) -> int:
    # Catches every single wrong character and most swaps of neighbours.
    return sum(_WEIGHTS[i % len(_WEIGHTS)] * ALPHABET.index(ch) for i, ch in enumerate(body)) % _BASE
