import pytest

from app.core.ads_client import VersionError, format_version, is_outdated, parse_version


@pytest.mark.parametrize(
    ("text", "outdated"),
    [
        ("6.0.10.2", True),
        ("5.1.9.3", True),
        ("6.1.0.0", False),
        ("6.1", False),
        ("6.0.99.99", True),
        ("6.10.0.0", False),
        ("7", False),
        (" v6.1.0.1 ", False),
        ("6.0", True),
    ],
)
def test_versions_compare_as_four_numbers(text, outdated):
    assert is_outdated(parse_version(text)) is outdated


def test_missing_parts_are_zero():
    assert parse_version("6.1") == (6, 1, 0, 0)
    assert format_version(parse_version("6.0.10.2")) == "6.0.10.2"


@pytest.mark.parametrize("text", ["", "six", "6..1", "6.1.0.0.0", "6.1-beta", "-6.1"])
def test_bad_versions_get_a_sentence(text):
    with pytest.raises(VersionError, match=r"such as 6\.1\.0\.0"):
        parse_version(text)
