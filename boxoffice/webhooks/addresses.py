"""Where a webhook may be delivered: only to global addresses, checked when the URL is given and
again, against the address actually connected to, at every delivery (a name may resolve
elsewhere by then: DNS rebinding). The resolver is given, so tests map names without DNS.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import httpx

from boxoffice.webhooks.errors import WebhookUrlNotAllowed

# A host name and port -> the addresses it resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class StaticResolver:
    """Names mapped to addresses, nothing else resolves (tests, closed networks)."""

    names: Mapping[str, list[str]]

    async def __call__(self, host: str, _port: int) -> list[str]:
        if host not in self.names:
            raise OSError(f"{host} does not resolve")
        return list(self.names[host])


def is_public(address: str) -> bool:
    """Whether an address is a global unicast one: not loopback, private, link-local,
    multicast, reserved or unspecified; an IPv4-mapped IPv6 address as its IPv4 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Target:
    """A webhook URL with the address to connect to, and how to ask that address for it."""

    url: httpx.URL
    address: str

    @property
    def connect_url(self) -> httpx.URL:
        return self.url.copy_with(host=self.address)

    @property
    def headers(self) -> dict[str, str]:
        return {"host": self.url.netloc.decode("ascii")}

    @property
    def extensions(self) -> dict[str, str]:
        # TLS names the host, and checks its certificate, although the URL names the address.
        return {"sni_hostname": self.url.host} if self.url.scheme == "https" else {}


async def check(url: str, resolver: Resolver, *, allow_private: bool) -> Target:
    """The address to deliver `url` to; WebhookUrlNotAllowed if it is not http(s), does not
    resolve, or any address it resolves to is not public (unless private ones are allowed)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise WebhookUrlNotAllowed("the URL is not a valid URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise WebhookUrlNotAllowed("only http and https URLs with a host may receive webhooks")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = [str(ipaddress.ip_address(parsed.host))]
    except ValueError:
        try:
            found = await resolver(parsed.host, port)
        except OSError:
            raise WebhookUrlNotAllowed(f"{parsed.host} does not resolve") from None
    if not found:
        raise WebhookUrlNotAllowed(f"{parsed.host} does not resolve")
    if not allow_private and not all(is_public(address) for address in found):
        raise WebhookUrlNotAllowed(
            f"{parsed.host} resolves to an address inside a private network"
            " (loopback, private, link-local, multicast or reserved)"
        )
    return Target(parsed, found[0])
