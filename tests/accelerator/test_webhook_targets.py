"""The webhook address policy: which addresses are public, how the allow-list reads, what a
URL may look like. Its own statement of the rules, not a copy of the code's tables."""

from __future__ import annotations

import ipaddress
import time
from typing import Any

import pytest
from pydantic import ValidationError

from accelerator.shared.addresses import AllowList
from accelerator.shared.config import Settings
from accelerator.webhooks import targets
from accelerator.webhooks.targets import (
    DeliveryError,
    Policy,
    TargetRefused,
    check,
    is_public,
    parse_target,
)

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "193.51.24.1",  # RENATER
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "2a01:e0a::1",
    "::ffff:8.8.8.8",  # IPv4-mapped: judged by its IPv4 address
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]
NOT_PUBLIC = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.0.1", "172.16.0.1",
    "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "192.0.0.8",
    "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1", "192.88.99.1", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fe80::1%2", "fc00::1", "fd12:3456::1", "fec0::1", "ff02::1",
    "ff0e::1", "2001:db8::1", "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "100::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b:1::8.8.8.8", "2002:7f00:1::1",
    "2002:a00:1::1", "2002:c0a8:101::1",
]  # fmt: skip


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_that_are_not_public(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


def test_the_allow_list_reads_hosts_ports_addresses_and_networks() -> None:
    allowed = AllowList.parse(
        " hooks.intra , Hooks.Example.ORG.:8443,127.0.0.1:9000,[::1]:9001, 10.0.0.0/8,"
        "192.168.1.7, fd00::/8,,"
    )
    assert allowed.hosts == {
        ("hooks.intra", None), ("hooks.example.org", 8443), ("127.0.0.1", 9000), ("::1", 9001),
    }  # fmt: skip
    assert [str(n) for n in allowed.networks] == ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
    assert AllowList.parse("") == AllowList()


@pytest.mark.parametrize(
    "entry",
    ["hooks intra", "host:port", "host:0", "host:70000", "[::1", "[::1]x", "10.0.0.0/33",
     "0x7f.1:80", "user@host", "http://host"],
)  # fmt: skip
def test_a_malformed_allow_list_stops_the_process(entry: str) -> None:
    with pytest.raises(ValueError, match="ACCELERATOR_WEBHOOK_ALLOWED_HOSTS"):
        AllowList.parse(f"hooks.intra,{entry}")
    with pytest.raises(ValidationError, match="ACCELERATOR_WEBHOOK_ALLOWED_HOSTS"):
        Settings(webhook_allowed_hosts=entry)


def test_a_target_keeps_its_name_for_host_and_canonical_addresses() -> None:
    assert parse_target("https://Hooks.Example.ORG./a/b?c=d#frag").host_header == (
        "hooks.example.org"
    )
    target = parse_target("http://[0:0::1]:8080/x?y")
    assert (target.host, target.port, target.path) == ("::1", 8080, b"/x?y")
    assert target.host_header == "[::1]:8080"
    assert parse_target("https://münchen.example/").host == "xn--mnchen-3ya.example"
    assert parse_target("http://127.0.0.1:80/").host_header == "127.0.0.1"


def _resolving(monkeypatch: pytest.MonkeyPatch, answer: list[str]) -> list[tuple[str, int]]:
    asked: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> list[Any]:
        asked.append((host, port))
        return [ipaddress.ip_address(a) for a in answer]

    monkeypatch.setattr(targets, "resolve", resolve)
    return asked


def test_every_address_of_a_name_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    _resolving(monkeypatch, ["8.8.8.8", "::1"])
    with pytest.raises(TargetRefused) as refused:
        check(parse_target("https://hooks.example.org/"), Policy())
    assert refused.value.reason is DeliveryError.FORBIDDEN_ADDRESS
    _resolving(monkeypatch, [])
    with pytest.raises(TargetRefused) as refused:
        check(parse_target("https://hooks.example.org/"), Policy())
    assert refused.value.reason is DeliveryError.DNS


def test_localhost_is_loopback_without_asking_the_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _resolving(monkeypatch, ["8.8.8.8"])
    for url in ("https://localhost/", "https://LOCALHOST./", "https://a.b.localhost/"):
        with pytest.raises(TargetRefused):
            check(parse_target(url), Policy())
    assert asked == []


def test_a_listed_network_allows_plain_http_and_a_listed_name_any_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = Policy(AllowList.parse("10.0.0.0/8,hooks.intra:8080"), require_https=True)
    _resolving(monkeypatch, ["10.1.2.3"])
    assert check(parse_target("http://receiver.intra/"), policy) == [
        ipaddress.ip_address("10.1.2.3")
    ]
    _resolving(monkeypatch, ["192.168.0.5"])  # outside the listed network
    assert check(parse_target("http://hooks.intra:8080/"), policy)
    with pytest.raises(TargetRefused):  # the listed name, another port
        check(parse_target("http://hooks.intra:8081/"), policy)
    _resolving(monkeypatch, ["10.1.2.3", "192.168.0.1"])  # one address outside the network
    with pytest.raises(TargetRefused) as refused:
        check(parse_target("https://receiver.intra/"), policy)
    assert refused.value.reason is DeliveryError.FORBIDDEN_ADDRESS
    _resolving(monkeypatch, ["8.8.8.8"])  # public, plain http, outside demo
    with pytest.raises(TargetRefused) as refused:
        check(parse_target("http://hooks.example.org/"), policy)
    assert refused.value.reason is DeliveryError.HTTPS_REQUIRED
    assert check(parse_target("http://hooks.example.org/"), Policy(require_https=False))


def test_the_real_resolver_answers_addresses() -> None:
    assert ipaddress.ip_address("127.0.0.1") in targets.resolve("localhost", 80)
    assert targets.resolve("nothing-here.invalid", 80) == []


def test_a_slow_name_server_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """A subscription is checked inside a transaction: the DNS wait is bounded."""
    monkeypatch.setattr(targets, "DNS_TIMEOUT", 0.2)
    monkeypatch.setattr(targets, "_getaddrinfo", lambda host, port: time.sleep(2) or [])
    started = time.monotonic()
    assert targets.resolve("slow.example.org", 443) == []
    assert time.monotonic() - started < 1
