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
from urllib.parse import SplitResult, urlsplit

from services.core.errors import ConfigurationError, InvalidUrlError
from services.core.lean_imports import lean_import

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_HOSTS_VARIABLE = "AHA_SERVICES_ALLOWED_HOSTS"

_LEGACY_IPV4 = re.compile(r"(?i)^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")


def system_resolve(host: str, port: int | None) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


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


# IANA's IPv4 and IPv6 Special-Purpose Address Registries: the blocks whose "Globally
# Reachable" is False or N/A, with multicast and the deprecated site-local block added.
# A name of None marks a globally reachable exception inside a wider block. 2002::/16
# (6to4) and 64:ff9b::/96 (NAT64) are judged by the IPv4 address they embed.
_IPV4_BLOCKS: tuple[tuple[str, str | None], ...] = (
    ("0.0.0.0/8", "this network"),
    ("10.0.0.0/8", "private use"),
    ("100.64.0.0/10", "shared address space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link local"),
    ("172.16.0.0/12", "private use"),
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.0.0/29", "IPv4 service continuity prefix"),
    ("192.0.0.8/32", "IPv4 dummy address"),
    ("192.0.0.9/32", None),  # Port Control Protocol anycast
    ("192.0.0.10/32", None),  # TURN anycast
    ("192.0.0.170/32", "NAT64/DNS64 discovery"),
    ("192.0.0.171/32", "NAT64/DNS64 discovery"),
    ("192.0.2.0/24", "documentation (TEST-NET-1)"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "private use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited broadcast"),
)
_IPV6_BLOCKS: tuple[tuple[str, str | None], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::ffff:0:0/96", "IPv4-mapped"),
    ("64:ff9b::/96", None),  # NAT64, judged by the IPv4 address it embeds
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation"),
    ("100::/64", "discard-only"),
    ("100:0:0:1::/64", "dummy prefix"),
    ("2001::/23", "IETF protocol assignments"),
    ("2001::/32", "Teredo"),
    ("2001:1::1/128", None),  # Port Control Protocol anycast
    ("2001:1::2/128", None),  # TURN anycast
    ("2001:1::3/128", None),  # DNS-SD service registration protocol anycast
    ("2001:2::/48", "benchmarking"),
    ("2001:3::/32", None),  # AMT
    ("2001:4:112::/48", None),  # AS112-v6
    ("2001:10::/28", "deprecated ORCHID"),
    ("2001:20::/28", None),  # ORCHIDv2
    ("2001:30::/28", None),  # drone remote ID entity tags
    ("2001:db8::/32", "documentation"),
    ("2002::/16", None),  # 6to4, judged by the IPv4 address it embeds
    ("3fff::/20", "documentation"),
    ("5f00::/16", "segment routing SIDs"),
    ("fc00::/7", "unique local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "deprecated site-local"),
    ("ff00::/8", "multicast"),
)

_Block = tuple[int, int, str | None]


def _ranges(entries: tuple[tuple[str, str | None], ...]) -> tuple[_Block, ...]:
    """Integer ranges, most specific first, so that an exception wins over its block."""
    networks = [(ipaddress.ip_network(cidr), name) for cidr, name in entries]
    networks.sort(key=lambda entry: entry[0].prefixlen, reverse=True)
    return tuple(
        (int(net.network_address), int(net.broadcast_address), name and f"{name}, {net}")
        for net, name in networks
    )


_BLOCKS = {4: _ranges(_IPV4_BLOCKS), 6: _ranges(_IPV6_BLOCKS)}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _registry_entry(address: IPAddress) -> tuple[bool, str | None]:
    """Whether a registry entry covers ``address``, and the block that keeps it from being
    globally reachable (None for an entry that is globally reachable)."""
    value = int(address)
    for first, last, name in _BLOCKS[address.version]:
        if first <= value <= last:
            return True, name
    return False, None


def special_purpose_block(address: IPAddress) -> str | None:
    """The special-purpose block (name and range) that keeps ``address`` from being
    globally reachable, or None."""
    return _registry_entry(address)[1]


def _own_reason(address: IPAddress) -> str | None:
    """Why an address is refused for itself: the registry decides where it has an entry,
    ``ipaddress``'s flags elsewhere (its tables call NAT64 and some anycast reserved)."""
    listed, block = _registry_entry(address)
    return block if listed else _python_flag(address)


def _python_flag(ip: IPAddress) -> str | None:
    """What ``ipaddress`` says against an address, for blocks the registry data lacks."""
    for flag in ("loopback", "private", "link_local", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{flag}"):
            return flag.replace("_", "-")
    if getattr(ip, "is_site_local", False):
        return "site-local"
    return None if ip.is_global else "not global"


def _embedded_ipv4(address: IPAddress) -> list[tuple[str, IPAddress]]:
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    embedded: list[tuple[str, IPAddress | None]] = [
        ("IPv4-mapped", address.ipv4_mapped),
        ("6to4", address.sixtofour),
    ]
    if address.teredo:
        embedded.extend(("Teredo", ip) for ip in address.teredo)
    if address in _NAT64:
        embedded.append(("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)))
    return [(kind, ip) for kind, ip in embedded if ip is not None]


def refusal_reason(address: IPAddress) -> str | None:
    """Why the guard refuses ``address`` (for its own block or the IPv4 address it
    embeds), or None for a public address."""
    reason = _own_reason(address)
    if reason:
        return reason
    for kind, ip in _embedded_ipv4(address):
        inner = _own_reason(ip)
        if inner:
            return f"{kind} form of {ip}: {inner}"
    return None


def is_refused(address: IPAddress) -> bool:
    """True for loopback, private, link-local, multicast, unspecified, reserved and every
    other special-purpose address that is not globally reachable."""
    return refusal_reason(address) is not None


def _in_networks(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    """Literal membership only: allowing 127.0.0.1 does not allow its IPv6 forms."""
    return any(address in net for net in networks if address.version == net.version)


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


def guard_host(
    host: str, port: int | None = None, *, behind_proxy: bool = False
) -> list[IPAddress] | None:
    """Check a host; returns its checked addresses, or None when it is exempt by name.

    ``behind_proxy``: the request goes through an outbound proxy, which resolves the
    name itself. A literal address and a name that resolves here are checked as
    always; a name this machine cannot resolve (a network whose DNS only the proxy
    reaches) is left to the proxy, and None is returned.
    """
    if not host:
        raise InvalidUrlError("URL is empty or invalid")
    names, networks = allowed_hosts()
    if host.lower().rstrip(".").strip("[]") in names:
        return None
    try:
        addresses = host_addresses(host, port)
    except ConfigurationError:
        if behind_proxy:
            return None
        raise
    for ip in addresses:
        reason = None if _in_networks(ip, networks) else refusal_reason(ip)
        if reason:
            raise InvalidUrlError(
                f"Refused address for host {host}: {ip} is not a public address ({reason}; "
                f"list it in {ALLOWED_HOSTS_VARIABLE} to allow it)"
            )
    return addresses


def guard_url(url: str) -> str:
    """Check a URL's form and its host, as a request to it will be checked (through the
    outbound proxy the environment names for it, if any); returns the URL unchanged."""
    parts = split_url(url)
    guard_host(parts.hostname or "", parts.port, behind_proxy=environment_proxy(url))
    return url


def environment_proxy(url: str) -> bool:
    """Whether requests will send a request to ``url`` through a proxy that the environment
    names (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, less ``NO_PROXY``)."""
    if no_proxy_settings():
        return False
    lean_import("requests")
    from requests.utils import get_environ_proxies, select_proxy

    return bool(select_proxy(url, get_environ_proxies(url)))


def no_proxy_settings() -> bool:
    """True when requests would find no proxy setting at all: no ``*_proxy`` variable in
    any case (``NO_PROXY`` included), on a system whose proxies come from the environment
    alone (not macOS's or Windows's own settings). A look at the variables' names, where
    requests' own look reads and decodes every variable, twice, for every request."""
    import urllib.request

    return urllib.request.getproxies is urllib.request.getproxies_environment and not any(
        name[-6:].lower() == "_proxy" for name in os.environ
    )


def split_url(url: str) -> SplitResult:
    """Parse an http(s) URL, refusing anything else with InvalidUrlError."""
    try:
        parts = urlsplit(str(url or "").strip())
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError as error:
        raise InvalidUrlError("URL is empty or invalid", error) from error
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidUrlError("URL is empty or invalid: it needs http:// or https:// and a host")
    return parts
