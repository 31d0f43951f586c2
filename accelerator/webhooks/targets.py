"""Where a webhook may be sent: the address policy that keeps webhooks from being a
server-side request forgery (SSRF).

A target is refused unless every address its host resolves to is globally routable, or the
host (or the address) is on the operator's allow-list (``ACCELERATOR_WEBHOOK_ALLOWED_HOSTS``).
The check runs when a subscription is made and again at every delivery, where the sender
(``workflows.webhooks``) connects only to the addresses this module checked: a name may
resolve elsewhere later (DNS rebinding). Plain http is refused outside demo mode, except for
allow-listed targets.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

import httpx

from accelerator.shared.addresses import (
    NUMERIC_LABEL,
    SETTING,
    Address,
    AllowList,
    Network,
    hostname,
)
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t

if TYPE_CHECKING:
    from accelerator.shared.config import Settings


MAX_URL_LENGTH = 2000


class DeliveryError(StrEnum):
    """The class of a failed delivery: all the delivery log says of it. Never the answer's
    body nor an exception's text, which could echo what the target sent back."""

    INVALID_URL = "invalid_url"
    FORBIDDEN_ADDRESS = "forbidden_address"
    HTTPS_REQUIRED = "https_required"
    DNS = "dns_error"
    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION = "connection_error"
    TLS = "tls"
    PROTOCOL = "protocol_error"
    RESPONSE_TOO_LARGE = "response_too_large"
    REDIRECT = "redirect"
    HTTP_STATUS = "http_status"
    UNEXPECTED = "unexpected_error"


class TargetRefused(InvalidInput):
    """A webhook target the policy refuses: 422 at subscription, a logged failure at delivery."""

    def __init__(self, reason: DeliveryError, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# 6to4 embeds an IPv4 address (checked through ``sixtofour``); NAT64's well-known prefix
# (RFC 6052) too, in its last 32 bits. The networks below are not globally reachable although
# some Python versions' ``is_global`` says they are (the IANA special-purpose registries).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_ALSO_REFUSED: tuple[Network, ...] = (
    ipaddress.IPv4Network("0.0.0.0/8"),  # "this network"
    ipaddress.IPv4Network("100.64.0.0/10"),  # carrier-grade NAT
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("192.88.99.0/24"),  # deprecated 6to4 relay anycast
    ipaddress.IPv4Network("198.18.0.0/15"),  # benchmarking
    ipaddress.IPv4Network("224.0.0.0/3"),  # multicast and reserved, up to 255.255.255.255
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64
    ipaddress.IPv6Network("100::/64"),  # discard-only
    ipaddress.IPv6Network("2001::/23"),  # IETF protocol assignments (Teredo included)
    ipaddress.IPv6Network("2001:db8::/32"),  # documentation
    ipaddress.IPv6Network("fc00::/7"),  # unique local
    ipaddress.IPv6Network("fec0::/10"),  # deprecated site-local
    ipaddress.IPv6Network("ff00::/8"),  # multicast
)


def is_public(address: Address) -> bool:
    """Whether ``address`` is globally routable, judging an embedded IPv4 address
    (IPv4-mapped, NAT64, 6to4) by itself: ``::ffff:127.0.0.1`` is loopback."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.teredo is not None or address.is_site_local:
            return False
    if (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    ):
        return False
    return not any(address in network for network in _ALSO_REFUSED)


@dataclass(frozen=True)
class Target:
    """A parsed webhook URL: what to connect to and what to ask for."""

    scheme: str
    #: ASCII host name (IDNA), or an IP address in canonical form (IPv6 without brackets).
    host: str
    port: int
    #: The request target: path and query, percent-encoded.
    path: bytes
    #: The address when the URL names one, else None (a name to resolve).
    literal: Address | None

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the name, never the address connected to."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _invalid(url: str | None, why: str) -> TargetRefused:
    """``url`` is None when it must not be shown back (it holds a password)."""
    if url is None:
        return TargetRefused(DeliveryError.INVALID_URL, t("webhook.target_invalid", why=why))
    shown = url if len(url) <= 200 else url[:200] + "…"
    return TargetRefused(
        DeliveryError.INVALID_URL, t("webhook.target_invalid_shown", shown=shown, why=why)
    )


def parse_target(url: str) -> Target:
    """Parse a webhook URL strictly, as the sender will read it; ``TargetRefused`` otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(url, t("webhook.target.too_long", max_length=MAX_URL_LENGTH))
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise _invalid(url, t("webhook.target.bad_character"))
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        raise _invalid(url, t("webhook.target.scheme")) from None
    if parsed.scheme not in ("http", "https"):
        raise _invalid(url, t("webhook.target.scheme"))
    authority = url.split("://", 1)[1] if "://" in url else ""
    authority = re.split(r"[/?#]", authority, maxsplit=1)[0]
    if parsed.userinfo or "@" in authority:
        raise _invalid(None, t("webhook.target.credentials"))
    raw_host = parsed.raw_host.decode("ascii", "replace")
    if not raw_host:
        raise _invalid(url, t("webhook.target.no_host"))
    port = parsed.port if parsed.port is not None else (443 if parsed.scheme == "https" else 80)
    if not 1 <= port <= 65535:
        raise _invalid(url, t("webhook.target.bad_port"))
    literal: Address | None
    if ":" in raw_host:  # httpx keeps IPv6 literals without their brackets
        try:
            literal = ipaddress.IPv6Address(raw_host)
        except ValueError:
            raise _invalid(url, t("webhook.target.bad_ipv6")) from None
        if literal.scope_id:
            raise _invalid(url, t("webhook.target.ipv6_zone"))
        host = str(literal)
    else:
        name = hostname(raw_host)
        if name is None:
            raise _invalid(url, t("webhook.target.bad_hostname"))
        literal = None
        host = name
        if NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
            try:
                literal = ipaddress.IPv4Address(name)
            except ValueError:
                raise _invalid(url, t("webhook.target.ipv4_not_canonical")) from None
            host = str(literal)
    return Target(parsed.scheme, host, port, parsed.raw_path, literal)


@dataclass(frozen=True)
class Policy:
    """What the product may send webhooks to."""

    allowed: AllowList = field(default_factory=AllowList)
    #: Outside demo mode, plain http only to allow-listed targets.
    require_https: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """The policy the settings of this process define."""
        return cls(AllowList.parse(settings.webhook_allowed_hosts), not settings.demo)


#: Longest wait for the DNS. A subscription is checked inside its request's transaction (on
#: SQLite, holding the write lock): a slow name server must not hold every writer for long.
DNS_TIMEOUT = 3.0
_resolvers = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


def _getaddrinfo(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[Address] = []
    for info in infos:
        try:
            address = ipaddress.ip_address(info[4][0])
        except ValueError:
            continue
        if address not in addresses:
            addresses.append(address)
    return addresses


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (the system resolver, within ``DNS_TIMEOUT``);
    empty when it does not resolve in time."""
    lookup = _resolvers.submit(_getaddrinfo, host, port)
    try:
        return lookup.result(timeout=DNS_TIMEOUT)
    except concurrent.futures.TimeoutError:
        return []  # the lookup thread ends when the system resolver gives up


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")  # RFC 6761: always loopback


def check(target: Target, policy: Policy) -> list[Address]:
    """The addresses the sender may connect to for ``target``: every one the host resolves
    to, all of them allowed; ``TargetRefused`` if any is not (one bad address is enough: a
    rebinding name may give a public address first and a private one next)."""
    trusted_host = policy.allowed.trusts_host(target.host, target.port)
    if target.literal is not None:
        addresses = [target.literal]
    elif _is_localhost(target.host) and not trusted_host:
        addresses = [ipaddress.IPv4Address("127.0.0.1")]
    else:
        addresses = resolve(target.host, target.port)
        if not addresses:
            raise TargetRefused(
                DeliveryError.DNS,
                t("webhook.target.host_unresolved", host=target.host, setting=SETTING),
            )
    listed = [a for a in addresses if policy.allowed.trusts_address(a)]
    if not trusted_host and any(a not in listed and not is_public(a) for a in addresses):
        # The resolved addresses are not named: they would tell an agent about the
        # préfecture's internal network.
        what = (
            t("webhook.target.address_not_public", host=target.host)
            if target.literal
            else t("webhook.target.host_not_public", host=target.host)
        )
        raise TargetRefused(
            DeliveryError.FORBIDDEN_ADDRESS,
            t("webhook.target.not_public", what=what, setting=SETTING),
        )
    if (
        policy.require_https
        and target.scheme != "https"
        and not trusted_host
        and len(listed) < len(addresses)
    ):
        raise TargetRefused(
            DeliveryError.HTTPS_REQUIRED,
            t("webhook.target.https_required", setting=SETTING),
        )
    return addresses


def check_url(url: str, policy: Policy) -> Target:
    """Parse and check a webhook URL (at subscription); ``TargetRefused`` with a French
    message if the policy refuses it."""
    target = parse_target(url)
    check(target, policy)
    return target
