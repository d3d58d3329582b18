"""Outbound HTTP that cannot reach inside the network: which addresses and URLs newsflow may connect to.

A webhook target (and, later, a feed newsflow fetches) is a URL someone else chose, so newsflow must
not become a way into its own network (server-side request forgery). The rules:

- the scheme is ``https``, or ``http`` only with ``allow_insecure`` (``NEWSFLOW_WEBHOOK_ALLOW_INSECURE``);
- every address the host names is *global*: loopback, private (RFC 1918), carrier-grade NAT
  (100.64/10), unique-local (fc00::/7), link-local (169.254/16 with the cloud metadata endpoint
  169.254.169.254, fe80::/10), multicast, unspecified, documentation and other reserved ranges are
  refused, IPv4 and IPv6 alike, and an IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64
  64:ff9b::/96, 6to4, Teredo) is judged by the IPv4 address it carries;
- ``allow_private`` (``NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS``, for tests and a receiver on the same
  network) lets loopback, private, carrier-grade NAT and unique-local addresses through; link-local
  (the metadata endpoint), multicast, unspecified and reserved addresses stay refused whatever is set.

:func:`address_refusal` and :func:`url_refusal` are pure. :class:`GuardedResolver` is the aiohttp
resolver that applies the rule to every address a name resolves to *at connection time*, so the
address aiohttp actually connects to is the one checked (a DNS answer that changes after a
subscription was created is refused then); an IP literal never reaches a resolver, so
:func:`check_url` (called before each connection too) checks it. A refusal raises
:class:`RefusedTarget`, an ``OSError`` that aiohttp wraps in ``ClientConnectorError.os_error``.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

__all__ = [
    "EgressPolicy",
    "GuardedResolver",
    "RefusedTarget",
    "address_refusal",
    "check_url",
    "url_refusal",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_CGNAT: Final = ipaddress.IPv4Network("100.64.0.0/10")
_UNIQUE_LOCAL: Final = ipaddress.IPv6Network("fc00::/7")


class RefusedTarget(OSError):
    """A URL or address newsflow will not connect to; ``str()`` is the reason."""


@dataclass(frozen=True)
class EgressPolicy:
    """What outbound connections may reach (both False: only public https)."""

    allow_insecure: bool = False
    allow_private: bool = False


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    return None


def _address_class(ip: IPAddress) -> tuple[str, bool] | None:
    """``(class, may_be_allowed)`` for a non-global address, None for a global one."""
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        found = _address_class(inner)
        return (f"{found[0]} (carried in {ip})", found[1]) if found else None
    if ip.is_unspecified:
        return "unspecified", False
    if ip.is_loopback:
        return "loopback", True
    if ip.is_link_local:
        return "link-local (includes the cloud metadata endpoint 169.254.169.254)", False
    if ip.is_multicast:
        return "multicast", False
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "unique-local", True
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "carrier-grade NAT (shared)", True
    if ip.is_reserved:
        return "reserved", False
    if ip.is_private:  # RFC 1918 and the other special-purpose ranges Python lists as not global
        private_nets = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
        if isinstance(ip, ipaddress.IPv4Address) and any(ip in ipaddress.IPv4Network(n) for n in private_nets):
            return "private", True
        return "reserved (special-purpose)", False
    if not ip.is_global:
        return "not global", False
    return None


def address_refusal(address: str | IPAddress, policy: EgressPolicy) -> str | None:
    """Why ``address`` may not be connected to under ``policy``, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return f"{address!r} is not an IP address"
    found = _address_class(ip)
    if found is None:
        return None
    kind, allowable = found
    if allowable and policy.allow_private:
        return None
    hint = " (NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows it)" if allowable else " (never allowed)"
    return f"address {ip} is {kind}{hint}"


def _host_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def url_refusal(url: str, policy: EgressPolicy) -> str | None:
    """Why ``url`` is refused before any resolution (scheme, missing host, an IP literal's class), or None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return f"scheme {scheme or '(none)'!r}: only https is allowed"
    if scheme == "http" and not policy.allow_insecure:
        return "http is refused: use https (NEWSFLOW_WEBHOOK_ALLOW_INSECURE=true allows http)"
    host = parts.hostname
    if not host:
        return "the URL has no host"
    if parts.username or parts.password:
        return "credentials in the URL are refused (sign with the webhook secret instead)"
    literal = _host_literal(host)
    if literal is not None:
        return address_refusal(literal, policy)
    if host.rstrip(".").lower() == "localhost" or host.rstrip(".").lower().endswith(".localhost"):
        return None if policy.allow_private else f"host {host!r} is loopback by definition (RFC 6761)"
    return None


async def check_url(url: str, policy: EgressPolicy, resolver: AbstractResolver) -> None:
    """Raise :class:`RefusedTarget` unless ``url`` and every address its host resolves to are allowed.

    ``resolver`` is the one deliveries use (a :class:`GuardedResolver`; tests pass a stub inside it). A
    name that does not resolve is refused too: a target must exist when it is created.
    """
    if (reason := url_refusal(url, policy)) is not None:
        raise RefusedTarget(reason)
    host = urlsplit(url).hostname or ""
    if _host_literal(host) is not None:
        return
    try:
        answers = await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except RefusedTarget:
        raise
    except OSError as exc:
        raise RefusedTarget(f"host {host!r} does not resolve ({exc.strerror or exc})") from None
    if not answers:
        raise RefusedTarget(f"host {host!r} does not resolve")
    for answer in answers:
        if (reason := address_refusal(answer["host"], policy)) is not None:
            raise RefusedTarget(f"host {host!r} resolves to a refused address: {reason}")


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses a name when any address it resolves to is refused by ``policy``.

    Wraps ``inner`` (default: aiohttp's default resolver; tests pass a stub that sends nothing). Refusing
    the whole answer, not just filtering it, means a name that mixes a public and a private address
    (a classic rebinding trick) gets nowhere.
    """

    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner  # the default one is made in the event loop, on first use

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            self._inner = DefaultResolver()
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            if (reason := address_refusal(answer["host"], self.policy)) is not None:
                raise RefusedTarget(f"host {host!r} resolves to a refused address: {reason}")
        return answers

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()
