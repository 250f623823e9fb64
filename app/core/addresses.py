"""Parsing the https addresses that users, help desks and catalogs give us."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.errors import AddressError

_MAX_HOST = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Address:
    """A parsed https address.

    Attributes:
        url: the address as we show it (normalised: scheme, host in its ASCII form, port only when not 443).
        host: the host name in ASCII (IDNA) form, or an IP address without brackets.
        port: the TCP port (1-65535).
        path: the path and query to request, starting with ``/``.
    """

    url: str
    host: str
    port: int
    path: str

    @property
    def is_ip(self) -> bool:
        """True when the host is a literal IP address rather than a name."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse_address(text: str) -> Address:
    """Parse an https address typed by a person or written in a catalog.

    A missing scheme is taken as https (help desks read out ``ads.caiso.com``); any other scheme is refused.
    Raises :class:`AddressError` with one plain sentence; the sentence never repeats a password.
    """
    raw = text.strip()
    if not raw:
        raise AddressError("The address is empty: type an address such as https://ads.caiso.com/.")
    if any(ch.isspace() for ch in raw) or any(ord(ch) < 32 for ch in raw):
        raise AddressError(f"The address {_shown(raw)} contains spaces or control characters.")
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        parts.hostname  # noqa: B018 - raises for a malformed bracketed address
    except ValueError:
        raise AddressError(f"The address {_shown(text)} is not a valid web address.") from None
    scheme = parts.scheme.lower()
    if scheme != "https":
        raise AddressError(
            f"The address {_shown(text)} starts with '{scheme}://'; only https:// addresses can be checked."
        )
    if "@" in parts.netloc:
        # Never echo the address: it may hold a password.
        raise AddressError("Addresses with a user name or password in them are not accepted; leave them out.")
    try:
        port = parts.port
    except ValueError:
        raise AddressError(f"The address {_shown(text)} has a port that is not a number from 1 to 65535.") from None
    if port is None:
        port = 443
    if not 1 <= port <= 65535:
        raise AddressError(f"The address {_shown(text)} has port {port}; a port must be from 1 to 65535.")
    host = _parse_host(parts.hostname or "", text.strip())
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    shown_host = f"[{host}]" if ":" in host else host
    url = f"https://{shown_host}{'' if port == 443 else f':{port}'}{path}"
    return Address(url=url, host=host, port=port, path=path)


def _parse_host(host: str, original: str) -> str:
    if not host:
        raise AddressError(f"The address {_shown(original)} has no server name.")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    host = host.rstrip(".").lower()
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise AddressError(f"The server name in {_shown(original)} is not a valid internet name.") from None
    labels = ascii_host.split(".")
    if len(ascii_host) > _MAX_HOST or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"The server name in {_shown(original)} is not a valid internet name.")
    return ascii_host


def _shown(text: str) -> str:
    """The address quoted for a message, with everything before its last ``@`` hidden: a user name and password
    can hold any character, even ``/`` and ``@``, so only what follows the last ``@`` is surely neither."""
    text = text.strip()
    if "@" in text:
        text = "..." + text[text.rindex("@") :]
    return repr(text)
