"""Run references and support codes: short strings a person can read aloud over the phone.

A *reference* names one run (``K7QM-3XPA``): it is in the window, the reports and the bundle's file name.
A *support code* says, in at most 12 characters whatever the number of addresses, the run's verdict, how
many addresses were checked, how many kinds of problem there were and the most important of them, so a help
desk can expand it into plain words with ``tls-readiness decode CODE``; the full detail travels in the
diagnostic bundle, found by the reference.

Both use an alphabet without look-alikes (no 0/O, 1/I/L, U/V). A support code is a list of small numbers
written in base 30 (a digit from the first half ends a number, one from the second half continues it),
followed by a check character, in groups of four. The numbers of the finding codes are frozen
(``docs/code-numbers.txt``), so a code made by an older version still decodes; so do the longer codes of the
first format, which listed every address.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from app.core.errors import InputError
from app.core.findings import CODE_NUMBERS, PROBLEM_STATUSES, STATUS_OF, Code, Status, Verdict
from app.core.model import RunReport

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # 30 characters: no 0/O, 1/I/L, U (V)
_BASE = len(ALPHABET)
_HALF = _BASE // 2
FORMAT = 2
MAX_KINDS = 14  # "14 or more kinds of problem": the count takes one character
_VERDICTS = (Verdict.READY, Verdict.ACTION_NEEDED, Verdict.COULD_NOT_CHECK)
_CODE_OF_NUMBER = {n: c for c, n in CODE_NUMBERS.items()}
SUPPORTED_STATUSES = PROBLEM_STATUSES
REFERENCE_LENGTH = 8


class SupportCodeError(InputError):
    """A support code that cannot be read (a typo, a missing part); the message is one plain sentence."""


def new_reference() -> str:
    """A fresh run reference, such as ``K7QM-3XPA`` (8 characters from the look-alike-free alphabet)."""
    letters = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{letters[:4]}-{letters[4:]}"


MAX_LENGTH = 12  # characters of a support code (its check character included; not its dashes)


@dataclass(frozen=True)
class SupportSummary:
    """What a support code says.

    Attributes:
        verdict: the run's verdict.
        targets: how many addresses were checked.
        causes: the most important kinds of problem (failing and could-not-check codes), most important first:
            what fits in the code.
        kinds: how many kinds of problem the run had in all (``len(causes)`` or more).
    """

    verdict: Verdict
    targets: int
    causes: tuple[Code, ...] = ()
    kinds: int = 0

    @classmethod
    def from_report(cls, report: RunReport) -> SupportSummary:
        """The summary of a run, its causes in order of importance: a failure before what could not be checked,
        then a problem of this computer (or the certificate file) before one of addresses, then the one that
        touches more addresses, then the lower code number."""
        reach: dict[Code, int] = {}
        own = set(_failing((*report.findings, *report.computer)))
        for target in report.targets:
            for code in _failing(target.findings):
                reach[code] = reach.get(code, 0) + 1
        every = own | set(reach)
        ranked = sorted(
            every,
            key=lambda c: (STATUS_OF[c] is not Status.FAIL, c not in own, -reach.get(c, 0), CODE_NUMBERS[c]),
        )
        return cls(
            report.verdict, len(report.targets), _fitting(report.verdict, len(report.targets), ranked), len(every)
        )


def _failing(findings: object) -> tuple[Code, ...]:
    codes = {f.code for f in findings if f.status in SUPPORTED_STATUSES}  # type: ignore[attr-defined]
    return tuple(sorted(codes, key=CODE_NUMBERS.__getitem__))


def _head(verdict: Verdict, targets: int, kinds: int) -> list[int]:
    return [FORMAT * len(_VERDICTS) + _VERDICTS.index(verdict), targets, min(kinds, MAX_KINDS)]


def _fitting(verdict: Verdict, targets: int, ranked: list[Code]) -> tuple[Code, ...]:
    """As many of the ranked causes as the code has room for, in their order."""
    used = sum(len(_write_number(n)) for n in _head(verdict, targets, len(ranked)))
    kept: list[Code] = []
    for code in ranked:
        size = len(_write_number(CODE_NUMBERS[code]))
        if used + size > MAX_LENGTH - 1:  # the check character takes the last place
            break
        kept.append(code)
        used += size
    return tuple(kept)


def encode(summary: SupportSummary) -> str:
    """The support code for a summary (at most :data:`MAX_LENGTH` characters, in groups of four)."""
    causes = _fitting(summary.verdict, summary.targets, list(summary.causes))
    numbers = [*_head(summary.verdict, summary.targets, max(summary.kinds, len(summary.causes)))]
    numbers += [CODE_NUMBERS[c] for c in causes]
    body = "".join(_write_number(n) for n in numbers)
    body += ALPHABET[_check(body)]
    return "-".join(body[i : i + 4] for i in range(0, len(body), 4))


def decode(text: str) -> SupportSummary:
    """Read a support code back (either format). Raises :class:`SupportCodeError` in plain words."""
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
    if numbers and numbers[0] == 1:
        return _decode_first_format(numbers)
    try:
        head, targets, kinds, *rest = numbers
    except ValueError:
        raise SupportCodeError("The support code is too short.") from None
    version, verdict_index = divmod(head, len(_VERDICTS))
    if version != FORMAT:
        raise SupportCodeError(f"This support code was made by another version of the program (format {version}).")
    if len(rest) > kinds:
        raise SupportCodeError("The support code does not hang together.")
    return SupportSummary(_VERDICTS[verdict_index], targets, _codes(rest), kinds)


def _codes(numbers: list[int]) -> tuple[Code, ...]:
    try:
        return tuple(_CODE_OF_NUMBER[n] for n in numbers)
    except KeyError:
        raise SupportCodeError(
            "The support code names a problem this version of the program does not know; update it."
        ) from None


def _decode_first_format(numbers: list[int]) -> SupportSummary:
    """Format 1 (before version 0.2): every address's codes, at any length."""
    try:
        _version, verdict_index, targets, count, *rest = numbers
    except ValueError:
        raise SupportCodeError("The support code is too short.") from None
    if verdict_index >= len(_VERDICTS):
        raise SupportCodeError("The support code holds an unknown verdict.")
    causes: list[Code] = []
    for _ in range(count):
        if len(rest) < 2:
            raise SupportCodeError("The support code is too short.")
        position, k, *rest = rest
        if len(rest) < k or position > targets:
            raise SupportCodeError("The support code does not hang together.")
        found, rest = _codes(rest[:k]), rest[k:]
        causes += [c for c in found if c not in causes]
    if rest:
        raise SupportCodeError("The support code has more in it than expected.")
    return SupportSummary(_VERDICTS[verdict_index], targets, tuple(causes), len(causes))


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
