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


def contacts_for(words: Words, contacts: Mapping[str, Contact]) -> list[Contact]:
    """The contacts an action sends the user to, in the order it names them."""
    action = words.action
    wanted = []
    if "IT department" in action:
        wanted.append(HELP_DESK)
    if "User Access Administrator" in action or "(UAA)" in action:
        wanted.append(UAA)
    if "ontact the ISO" in action:  # "Contact the ISO", "contact the ISO"
        wanted.append(ISO)
    return [contacts[k] for k in wanted if k in contacts]


def advice(
    words: Words, code: str, where: str, reference: str, contacts: Mapping[str, Contact]
) -> tuple[list[str], str]:
    """The contact lines for an action, and the sentence to say or paste: where (the address), the problem's
    name and code, and the run's reference."""
    lines = []
    for contact in contacts_for(words, contacts):
        lines.append(contact.line())
        if contact.email and contact.kind != UAA:
            lines.append(f"Export the diagnostic bundle (File menu) and e-mail it to {contact.email}.")
    if "IT department" in words.action and HELP_DESK not in contacts:
        lines.append("Your IT department: the help desk your company uses.")
    said = (
        f"{where}: {words.title} [{code}]. Reference {reference}." if reference else f"{where}: {words.title} [{code}]."
    )
    return lines, said
