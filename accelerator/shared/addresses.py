"""Hosts and networks an operator lists in a setting (the webhooks' allow-list), parsed
once so that a malformed list stops the process at start-up.

Host names are normalised the way ``webhooks.targets`` reads a URL's host (lowercase, no final
dot, canonical IPv4 form), so that a listed host matches the target it names.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from accelerator.shared.text import t

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTING = "ACCELERATOR_WEBHOOK_ALLOWED_HOSTS"

HOSTNAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
# WHATWG URL: a host whose last label is a number is an IPv4 address, in any of the forms
# inet_aton accepts (2130706433, 0x7f.1, 017700000001...): only the canonical one is taken.
NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")


def hostname(raw: str) -> str | None:
    """``raw`` lowercased without its final dot if it is a valid DNS host name, else None."""
    host = raw.lower().removesuffix(".")
    if len(host) > 253 or not HOSTNAME.match(host):
        return None
    return host


@dataclass(frozen=True)
class AllowList:
    """Targets the operator trusts although they are not public: host names or addresses,
    with an optional port, and networks (CIDR)."""

    #: (host, port or None for any port); hosts in the form of ``Target.host``.
    hosts: frozenset[tuple[str, int | None]] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """Read ``host``, ``host:port``, ``[v6]:port``, ``address`` or ``CIDR`` entries,
        comma-separated; ``ValueError`` (French) on a malformed one."""
        hosts: set[tuple[str, int | None]] = set()
        networks: list[Network] = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            try:
                if "/" in entry:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                    continue
                try:
                    address = ipaddress.ip_address(entry)
                except ValueError:
                    pass
                else:
                    networks.append(ipaddress.ip_network(address))
                    continue
                host, port = _host_and_port(entry)
                hosts.add((host, port))
            except ValueError:
                raise ValueError(
                    t("config.allow_list_entry_invalid", setting=SETTING, entry=entry)
                ) from None
        return cls(frozenset(hosts), tuple(networks))

    def trusts_host(self, host: str, port: int) -> bool:
        """Whether ``host`` (normalised as ``hostname`` does) is listed, for ``port``."""
        return (host, None) in self.hosts or (host, port) in self.hosts

    def trusts_address(self, address: Address) -> bool:
        """Whether ``address`` lies in a listed network (or is a listed address)."""
        return any(address in network for network in self.networks)


def _host_and_port(entry: str) -> tuple[str, int | None]:
    port: int | None = None
    if entry.startswith("["):
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket:
            raise ValueError(entry)
        host = str(ipaddress.IPv6Address(inside))
        if rest:
            if not rest.startswith(":"):
                raise ValueError(entry)
            port = int(rest[1:])
    else:
        name, colon, port_text = entry.partition(":")
        if colon:
            port = int(port_text)
        checked = hostname(name)
        if checked is None:
            raise ValueError(entry)
        host = checked
        if NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            host = str(ipaddress.IPv4Address(host))
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(entry)
    return host, port
