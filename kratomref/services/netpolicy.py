"""Which addresses the link checker may contact: public ones only, unless --allow-private is given.

Checked on literal addresses before any request (every redirect hop included), and on the addresses a
name resolves to at the moment of connecting: the connection goes to the very address that was checked,
so neither a public-looking name nor a DNS answer that changes between two look-ups can steer the
checker to a cloud metadata endpoint (169.254.169.254) or a service on loopback.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from kratomref import lazy

if TYPE_CHECKING:
    import socket

PRIVATE_REFUSED = "private address refused (use --allow-private)"

# The forms inet_aton accepts besides dotted quads: 127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1. Browsers and
# resolvers read them as addresses too, so they are addresses for the policy.
_LEGACY_IPV4 = lazy.regex(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}\.?", re.IGNORECASE)


class AddressRefused(Exception):
    """The host is, or resolves to, an address the policy does not allow. Not an OSError on purpose:
    urllib3 and requests let it through unchanged instead of retrying it as a network failure."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.address = address


def is_public(address: str) -> bool:
    """False for loopback, private, link-local, unspecified, multicast and reserved addresses."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return bool(ip.is_global) and not (ip.is_multicast or ip.is_reserved)


def literal_address(host: str) -> str | None:
    """The host as an IP address when it is written as one ("[::1]", "127.1" and "2130706433" included),
    else None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare.split("%", 1)[0]))
    except ValueError:
        pass
    if _LEGACY_IPV4.fullmatch(bare):
        import socket  # loaded by the requests, not by the checks before them (an offline run makes none)

        try:
            return socket.inet_ntoa(socket.inet_aton(bare.rstrip(".")))
        except OSError:
            return None
    return None


def check_literal(host: str, *, allow_private: bool) -> None:
    """Raise AddressRefused when the host is written as an address the policy does not allow. Names are
    checked when the connection is made (see GuardedConnectionMixin); through a proxy they are the proxy's to
    resolve, so a local DNS failure never fails a URL the proxy can reach."""
    literal = literal_address(host)
    if literal is not None and not allow_private and not is_public(literal):
        raise AddressRefused(literal)


class GuardedConnectionMixin:
    """For a urllib3 connection class: resolve, refuse any non-public address, then connect to the address
    that was checked. Requests through a proxy do not use it: the proxy resolves names, and may itself be
    on a private network."""

    _dns_host: str
    host: str
    port: int

    def _new_conn(self) -> socket.socket:
        import socket

        try:
            infos = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            from urllib3.exceptions import NameResolutionError  # urllib3 is loaded already: this runs inside it

            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        addresses = [str(info[4][0]) for info in infos]
        for address in addresses:
            if not is_public(address):
                raise AddressRefused(address)
        original = self._dns_host
        self._dns_host = addresses[0]
        try:
            sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = original
        return sock
