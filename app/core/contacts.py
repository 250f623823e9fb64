"""Whom to contact, concretely: the ISO's contacts (from its published pages, none invented), your company's
User Access Administrator, and, from an IT department's catalog, the company's help desk.

An action that says "ask your IT department", "contact the ISO" or names the User Access Administrator gets the
contact when it is known, what to send, and a ready sentence to say or paste (:func:`advice`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app.core.words import Words

HELP_DESK, ISO, UAA = "help_desk", "iso", "uaa"
KINDS = (HELP_DESK, ISO, UAA)


@dataclass(frozen=True)
class Contact:
    """Someone to ask.

    Attributes:
        kind: ``help_desk``, ``iso`` or ``uaa``.
        name: who it is ("The Acme help desk").
        phone: a phone number, or empty.
        email: an e-mail address, or empty.
        page: a web page, or empty.
        note: one more sentence (how to reach them, what they need), or empty.
    """

    kind: str
    name: str
    phone: str = ""
    email: str = ""
    page: str = ""
    note: str = ""

    def line(self) -> str:
        """ "The Acme help desk: phone 555-0100, help@acme.example, https://help.acme.example"."""
        ways = [f"phone {self.phone}" if self.phone else "", self.email, self.page]
        reach = ", ".join(w for w in ways if w)
        text = f"{self.name}: {reach}" if reach else self.name
        return f"{text}. {self.note}" if self.note else f"{text}."


def _wanted(words: Words) -> list[str]:
    """The kinds of contact an action sends the user to, in the order it names them."""
    action = words.action
    found = []
    for kind, phrases in (
        (HELP_DESK, ("IT department",)),
        (UAA, ("User Access Administrator", "(UAA)")),
        (ISO, ("ontact the ISO",)),  # "Contact the ISO", "contact the ISO"
    ):
        places = [action.find(p) for p in phrases if p in action]
        if places:
            found.append((min(places), kind))
    return [kind for _, kind in sorted(found)]


def contacts_for(words: Words, contacts: Mapping[str, Contact]) -> list[Contact]:
    """The contacts an action sends the user to, in the order it names them."""
    return [contacts[k] for k in _wanted(words) if k in contacts]


def advice(
    words: Words, code: str, where: str, reference: str, contacts: Mapping[str, Contact]
) -> tuple[list[str], str]:
    """The contact lines for an action, in the order it names them, and the sentence to say or paste: where
    (the address), the problem's name and code, and the run's reference."""
    lines = []
    for kind in _wanted(words):
        contact = contacts.get(kind)
        if contact is None:
            if kind == HELP_DESK:
                lines.append("Your IT department: the help desk your company uses.")
            continue
        lines.append(contact.line())
        if contact.email and contact.kind != UAA:
            lines.append(f"Export the diagnostic bundle (File menu) and e-mail it to {contact.email}.")
    said = (
        f"{where}: {words.title} [{code}]. Reference {reference}." if reference else f"{where}: {words.title} [{code}]."
    )
    return lines, said
