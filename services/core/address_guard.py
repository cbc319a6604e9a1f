"""Refuses URLs that reach loopback, private and other non-public addresses.

A user's URL (a webhook, a tracker's server) must not turn the host into a probe
of the network it runs in. The check runs after DNS resolution, on every request
and every redirect hop, and again when the socket connects, to the checked address.
``AHA_SERVICES_ALLOWED_HOSTS`` exempts host names, IP addresses and CIDR ranges.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable
from functools import lru_cache
from urllib.parse import urlsplit

from services.core.errors import ConfigurationError, InvalidUrlError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_HOSTS_VARIABLE = "AHA_SERVICES_ALLOWED_HOSTS"

_LEGACY_IPV4 = re.compile(r"(?i)^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


def system_resolve(host: str, port: int | None) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


# Replaced in specs by a fake, so that no test reaches DNS.
resolve: Callable[[str, int | None], list[IPAddress]] = system_resolve


@lru_cache(maxsize=8)
def _parse_allowed(raw: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    names: set[str] = set()
    networks: list[IPNetwork] = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
        except ValueError:
            names.add(item.lower().rstrip("."))
    return frozenset(names), tuple(networks)


def allowed_hosts() -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """The exempt names and networks, read from the environment on each call."""
    return _parse_allowed(os.environ.get(ALLOWED_HOSTS_VARIABLE, ""))


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, including legacy IPv4 forms like ``2130706433``."""
    bare = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(bare):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    return None


def _embedded_ipv4(address: IPAddress) -> list[IPAddress]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    embedded = [address.ipv4_mapped, address.sixtofour]
    if address.teredo:
        embedded.extend(address.teredo)
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [ip for ip in embedded if ip is not None]


def is_refused(address: IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, unspecified and reserved addresses."""
    for ip in (address, *_embedded_ipv4(address)):
        if (
            ip.is_loopback
            or ip.is_private
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_unspecified
            or ip.is_reserved
            or not ip.is_global
        ):
            return True
    return False


def _in_networks(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    candidates = (address, *_embedded_ipv4(address))
    return any(ip in net for ip in candidates for net in networks if ip.version == net.version)


def host_addresses(host: str, port: int | None = None) -> list[IPAddress]:
    """The addresses a host stands for; DNS failures are configuration errors."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as error:
        raise ConfigurationError(f"Could not resolve host {host}: {error}", error) from error
    if not addresses:
        raise ConfigurationError(f"Could not resolve host {host}: no addresses")
    return addresses


def is_exempt(host: str, addresses: list[IPAddress] | None = None) -> bool:
    """True when ``AHA_SERVICES_ALLOWED_HOSTS`` names this host or all of its addresses."""
    names, networks = allowed_hosts()
    if host.lower().rstrip(".").strip("[]") in names:
        return True
    if not networks:
        return False
    if addresses is None:
        addresses = host_addresses(host)
    return all(_in_networks(ip, networks) for ip in addresses)


def guard_host(host: str, port: int | None = None) -> list[IPAddress] | None:
    """Check a host; returns its checked addresses, or None when it is exempt by name."""
    if not host:
        raise InvalidUrlError("URL is empty or invalid")
    names, networks = allowed_hosts()
    if host.lower().rstrip(".").strip("[]") in names:
        return None
    addresses = host_addresses(host, port)
    for ip in addresses:
        if is_refused(ip) and not _in_networks(ip, networks):
            raise InvalidUrlError(
                f"Refused address for host {host}: {ip} is not a public address "
                f"(list it in {ALLOWED_HOSTS_VARIABLE} to allow it)"
            )
    return addresses


def guard_url(url: str) -> str:
    """Check a URL's form and its host; returns the URL unchanged."""
    parts = split_url(url)
    guard_host(parts.hostname or "", parts.port)
    return url


def split_url(url: str):
    """Parse an http(s) URL, refusing anything else with InvalidUrlError."""
    try:
        parts = urlsplit(str(url or "").strip())
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError as error:
        raise InvalidUrlError("URL is empty or invalid", error) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrlError("URL is empty or invalid: it needs http:// or https:// and a host")
    return parts
