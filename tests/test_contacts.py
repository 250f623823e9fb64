"""Whom to contact: the ISO's published contacts, the User Access Administrator, and a company's own help desk
from its catalog, named wherever the words send the user, with what to send and a sentence to read out."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.catalog import load_catalog
from app.core.contacts import Contact, advice
from app.core.errors import CatalogError
from app.core.findings import Code
from app.core.words import words_for

HELP_DESK = """
[catalog]
version = "acme-1"

[contacts.help_desk]
name = "The Acme help desk"
phone = "555-0100"
email = "help@acme.example"
page = "https://help.acme.example"
"""


@pytest.fixture
def company_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(HELP_DESK, encoding="utf-8")
    return path


def test_the_built_in_catalog_names_only_what_the_iso_publishes():
    contacts = load_catalog(use_user_catalog=False).contacts
    assert set(contacts) == {"iso", "uaa"}  # no help desk: the company's is not known here
    assert contacts["uaa"].email == "UAARequests@caiso.com"
    assert not contacts["iso"].phone  # none was found in public sources: none is made up
    assert "CIDI" in contacts["iso"].note


def test_a_company_catalog_adds_its_help_desk(company_catalog):
    contacts = load_catalog(company_catalog).contacts
    assert contacts["help_desk"] == Contact(
        "help_desk", "The Acme help desk", "555-0100", "help@acme.example", "https://help.acme.example"
    )
    assert "uaa" in contacts  # the ISO's stay


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[contacts.boss]\nname = "x"\n', "unknown contact"),
        ('[contacts.help_desk]\nname = "x"\nemail = "not an address"\n', "not an e-mail address"),
        ('[contacts.help_desk]\nname = "x"\npage = "help.acme.example"\n', "starts with https://"),
        ('[contacts.help_desk]\nphone = "1"\n', "missing"),
    ],
)
def test_a_wrong_contact_is_one_sentence(tmp_path, body, fragment):
    path = tmp_path / "bad.toml"
    path.write_text('[catalog]\nversion = "1"\n' + body, encoding="utf-8")
    with pytest.raises(CatalogError, match=fragment):
        load_catalog(path)


def test_an_action_names_its_contacts_what_to_send_and_what_to_say(company_catalog):
    contacts = load_catalog(company_catalog).contacts
    words = words_for(Code.TLS12_REFUSED, {"host": "ads.example"})  # "give this report to your IT department"
    lines, said = advice(words, "TLS12_REFUSED", "ADS (https://ads.example/)", "K7QM-3XPA", contacts)
    assert any("The Acme help desk: phone 555-0100" in line for line in lines)
    assert "Export the diagnostic bundle (File menu) and e-mail it to help@acme.example." in lines
    assert said == f"ADS (https://ads.example/): {words.title} [TLS12_REFUSED]. Reference K7QM-3XPA."
    forbidden = words_for(Code.HTTP_FORBIDDEN, {"host": "ads.example"})  # the UAA
    lines, _ = advice(forbidden, "HTTP_FORBIDDEN", "ADS", "K7QM-3XPA", contacts)
    assert any("UAARequests@caiso.com" in line for line in lines)


def test_without_a_help_desk_the_words_say_so_plainly():
    contacts = load_catalog(use_user_catalog=False).contacts
    words = words_for(Code.TLS12_REFUSED, {"host": "ads.example"})
    lines, _ = advice(words, "TLS12_REFUSED", "ADS", "", contacts)
    assert lines[0] == "Your IT department: the help desk your company uses."  # named first, said first
    assert "developer.caiso.com" in lines[1]  # "contact the ISO": where to find it


def test_the_text_report_and_the_page_name_whom_to_contact(company_catalog):
    from app.core.addresses import parse_address
    from app.core.findings import Check, Finding
    from app.core.model import RunReport, Target, TargetReport
    from app.core.report_html import render_html
    from app.core.summary import render

    contacts = load_catalog(company_catalog).contacts
    url = "https://ads.example/"
    refused = Finding(Code.TLS12_REFUSED, Check.TLS12, {"host": "ads.example"})
    report = RunReport(targets=(TargetReport(Target("ads", "ADS", parse_address(url)), (refused,)),))
    window = " ".join(render(report, contacts=contacts).split())  # Copy summary, in the window (lines joined)
    assert "Whom to contact: The Acme help desk: phone 555-0100" in window and "(File menu)" in window
    command = " ".join(render(report, command_line=True, contacts=contacts).split())  # the command line's places
    assert "e-mail it to help@acme.example" in command and "File menu" not in command and "--bundle" in command
    page = render_html(report, contacts=contacts)
    assert "Whom to contact:</b> The Acme help desk: phone 555-0100" in page
