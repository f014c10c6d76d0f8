"""The SSRF guard: a webhook may only reach public addresses, and only the address checked.

`check_target(url)` parses the URL (http or https, no credentials), resolves its host and refuses
it when any address it resolves to is loopback, private (RFC 1918), link-local (169.254.0.0/16,
cloud metadata included; fe80::/10), CGNAT (100.64.0.0/10), unique-local (fc00::/7),
IPv4-mapped IPv6, unspecified, multicast or otherwise not public. It returns the address to
connect to: the delivery connects to that very address (with the URL's host as Host header and
TLS server name), so a DNS answer that changes between check and connect cannot redirect it.
It runs when a webhook is saved and again before every attempt.

`JOBBOARD_WEBHOOK_ALLOWED_HOSTS` (host names or CIDRs, comma-separated) lets named targets
through: a listed host name whatever it resolves to, or any address inside a listed network.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from jobboard.core.settings import get_settings
from jobboard.core.webhooks.errors import WebhookError

MAX_URL = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """Where one request goes: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str  # as in the URL (lower-case; IDNA for international names)
    port: int
    path: str  # path and query
    address: str  # the resolved, checked IP

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{address}:{self.port}{self.path}"

    @property
    def is_name(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return True
        return False


def address_problem(ip: IPAddress) -> str | None:
    """Why a webhook may not connect to this address; None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip.sixtofour is not None:
            inner = address_problem(ip.sixtofour)
            return inner and f"a 6to4 address wrapping {inner}"
        if ip.teredo is not None:
            return "a Teredo tunnel address"
        if ip in _NAT64:
            inner = address_problem(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
            return inner and f"a NAT64 address wrapping {inner}"
        if ip in _UNIQUE_LOCAL:
            return "a unique-local IPv6 address (fc00::/7)"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (169.254.0.0/16 or fe80::/10, where cloud metadata lives)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private network address"
    if ip.is_reserved:
        return "a reserved address"
    if not ip.is_global:
        return "not a public address"
    return None


def _allowlist() -> tuple[set[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    names: set[str] = set()
    networks = []
    for entry in get_settings().webhook_allowed_hosts:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of a webhook URL, or WebhookError saying why not."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookError("Enter the URL to send events to, e.g. https://example.com/hooks.")
    url = url.strip()
    if len(url) > MAX_URL:
        raise WebhookError(f"A webhook URL has at most {MAX_URL} characters.")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise WebhookError("A webhook URL cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("The URL is not valid (check the host and the port).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookError("A webhook URL must start with https:// (or http://).")
    if parts.username is not None or parts.password is not None:
        raise WebhookError("A webhook URL cannot contain a user name or password.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookError("The URL has no host name.")
    if parts.fragment:
        raise WebhookError("A webhook URL cannot have a #fragment.")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise WebhookError("The URL's host name is not valid.") from None
    if port == 0:
        raise WebhookError("The URL's port must be from 1 to 65535.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port or (443 if scheme == "https" else 80), path


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise WebhookError(f"The host {host} could not be resolved.") from None
    found = [info[4][0].split("%", 1)[0] for info in infos]
    if not found:
        raise WebhookError(f"The host {host} could not be resolved.")
    return list(dict.fromkeys(found))


def check_target(url: str) -> Target:
    """The checked target of a webhook URL, or WebhookError naming what is refused."""
    scheme, host, port, path = parse_url(url)
    names, networks = _allowlist()
    named = host.lower() in names
    addresses = resolve(host, port)
    for raw in addresses:
        ip = ipaddress.ip_address(raw)
        if named or any(ip in net for net in networks):
            continue
        problem = address_problem(ip)
        if problem:
            # Any refused address refuses the host: DNS could hand out that one next time.
            shown = host if host == raw else f"{host} ({raw})"
            raise WebhookError(f"Webhooks cannot be sent to {shown}: it is {problem}.")
    return Target(scheme, host, port, path, addresses[0])
