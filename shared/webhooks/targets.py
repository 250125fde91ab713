"""Which URLs a webhook may call: the SSRF guard of SPEC §15.

A target on a loopback, private, link-local (cloud metadata) or otherwise
non-public address is refused unless ``WEBHOOK_ALLOW_PRIVATE=true``. The check
runs when an endpoint is saved and again before every send, after DNS
resolution, and the worker then connects to the very address it checked, so a
name that resolves to a public address at save time and a private one later
(DNS rebinding) is still refused.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared import limits

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
ALLOW_PRIVATE_HINT = "set WEBHOOK_ALLOW_PRIVATE=true to allow it"


class TargetRefused(Exception):
    """The URL may not be called; the message says why (one sentence, no stack)."""


class TargetUnresolved(TargetRefused):
    """The host name did not resolve (perhaps for now: DNS may come back)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to ask for there."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: IPAddress

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class _Parts:
    scheme: str
    host: str
    port: int
    path: str


def _parse(url: str) -> _Parts:
    if not isinstance(url, str) or not url.strip():
        raise TargetRefused("is required")
    if len(url) > limits.WEBHOOK_URL:
        raise TargetRefused(f"must be at most {limits.WEBHOOK_URL} characters")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise TargetRefused("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("is not a valid URL") from None
    if parts.scheme.lower() not in SCHEMES:
        raise TargetRefused("must start with http:// or https://")
    if not parts.hostname:
        raise TargetRefused("must name a host")
    scheme = parts.scheme.lower()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Parts(scheme, parts.hostname, port or (443 if scheme == "https" else 80), path)


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local, reserved, multicast)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetUnresolved(f"the host {host} does not resolve ({exc})") from None
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise TargetUnresolved(f"the host {host} does not resolve")
    return found


def check_target(url: str, *, allow_private: bool) -> Target:
    """Parse and resolve ``url``; refuse it if any address it resolves to is not public (unless allowed).

    Every address must pass, not just one: a name with one public and one
    private address could otherwise be steered to the private one.
    """
    parts = _parse(url)
    addresses = resolve(parts.host, parts.port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefused(
                    f"{parts.host} is a loopback, private or link-local address ({address}); {ALLOW_PRIVATE_HINT}"
                )
    return Target(url, parts.scheme, parts.host, parts.port, parts.path, addresses[0])
