import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.addresses import parse_address
from app.core.errors import AddressError


@pytest.mark.parametrize(
    ("text", "url", "host", "port", "path"),
    [
        (
            "https://ads.caiso.com/ADS/APIService",
            "https://ads.caiso.com/ADS/APIService",
            "ads.caiso.com",
            443,
            "/ADS/APIService",
        ),
        ("  ads.caiso.com  ", "https://ads.caiso.com/", "ads.caiso.com", 443, "/"),
        ("HTTPS://ADSMAP.CAISO.COM:447/x?y=1", "https://adsmap.caiso.com:447/x?y=1", "adsmap.caiso.com", 447, "/x?y=1"),
        ("https://127.0.0.1:8443", "https://127.0.0.1:8443/", "127.0.0.1", 8443, "/"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a", "::1", 8443, "/a"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/", "xn--bcher-kva.example", 443, "/"),
        ("https://host.example.:443/", "https://host.example/", "host.example", 443, "/"),
    ],
)
def test_parses_https_addresses(text, url, host, port, path):
    address = parse_address(text)
    assert (address.url, address.host, address.port, address.path) == (url, host, port, path)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("http://ads.caiso.com/", "only https://"),
        ("ftp://x.example/", "only https://"),
        ("https://ads.caiso.com:0/", "from 1 to 65535"),
        ("https://ads.caiso.com:70000/", "from 1 to 65535"),
        ("https://ads.caiso.com:port/", "from 1 to 65535"),
        ("https:///path", "no server name"),
        ("https://bad_host!.example/", "not a valid internet name"),
        ("https://ads caiso.com/", "spaces"),
        ("https://-lead.example/", "not a valid internet name"),
    ],
)
def test_refuses_bad_addresses_with_a_sentence(text, fragment):
    with pytest.raises(AddressError) as error:
        parse_address(text)
    assert fragment in str(error.value)
    assert str(error.value).endswith(".")


def test_never_repeats_a_password_in_the_message():
    for text in ("https://user:hunter2@ads.caiso.com/", "http://user:hunter2@ads.caiso.com/"):
        with pytest.raises(AddressError) as error:
            parse_address(text)
        assert "hunter2" not in str(error.value)


@given(st.text(max_size=80))
def test_any_text_gives_an_address_or_a_plain_error(text):
    try:
        address = parse_address(text)
    except AddressError as error:
        assert str(error)
    else:
        assert address.url.startswith("https://") and 1 <= address.port <= 65535
        assert parse_address(address.url) == address  # normalised form is stable
