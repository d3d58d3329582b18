"""Which webhook targets newsflow may connect to (shared/egress.py): address classes, URLs, the resolver."""

from __future__ import annotations

import pytest

from shared.egress import EgressPolicy, GuardedResolver, RefusedTarget, address_refusal, check_url, url_refusal

from ..stub_resolver import StubResolver

STRICT = EgressPolicy()
PRIVATE_OK = EgressPolicy(allow_insecure=True, allow_private=True)

# (address, the class named in the refusal, whether NEWSFLOW_WEBHOOK_ALLOW_PRIVATE_NETWORKS lets it through)
REFUSED = [
    ("127.0.0.1", "loopback", True),
    ("127.8.9.10", "loopback", True),
    ("::1", "loopback", True),
    ("10.0.0.5", "private", True),
    ("172.16.3.4", "private", True),
    ("192.168.1.1", "private", True),
    ("100.64.0.1", "carrier-grade NAT", True),
    ("fd00::1", "unique-local", True),
    ("fc12:3456::9", "unique-local", True),
    ("169.254.169.254", "link-local", False),
    ("fe80::1", "link-local", False),
    ("fe80::1%eth0", "link-local", False),
    ("224.0.0.1", "multicast", False),
    ("239.255.255.250", "multicast", False),
    ("ff02::1", "multicast", False),
    ("0.0.0.0", "unspecified", False),
    ("::", "unspecified", False),
    ("240.0.0.1", "reserved", False),
    ("255.255.255.255", "reserved", False),
    ("192.0.2.10", "reserved", False),  # documentation (TEST-NET-1)
    ("2001:db8::1", "reserved", False),  # documentation
    ("::ffff:127.0.0.1", "loopback (carried in", True),  # IPv4-mapped
    ("::ffff:169.254.169.254", "link-local", False),
    ("64:ff9b::a9fe:a9fe", "link-local", False),  # NAT64 of 169.254.169.254
    ("2002:a00:1::1", "private (carried in", True),  # 6to4 of 10.0.0.1
]
PUBLIC = ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "kind", "allowable"), REFUSED)
def test_each_inside_address_class_is_refused_and_named(address: str, kind: str, allowable: bool) -> None:
    reason = address_refusal(address, STRICT)
    assert reason is not None and kind in reason, reason
    assert (address_refusal(address, PRIVATE_OK) is None) is allowable  # link-local, multicast...: never


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_refusal(address, STRICT) is None


def test_urls_https_only_unless_insecure_is_allowed_and_literals_are_judged_at_once() -> None:
    assert url_refusal("https://hooks.example.org/x", STRICT) is None
    assert "https" in (url_refusal("http://hooks.example.org/x", STRICT) or "")
    assert url_refusal("http://hooks.example.org/x", EgressPolicy(allow_insecure=True)) is None
    assert "scheme 'file'" in (url_refusal("file:///etc/passwd", STRICT) or "")
    assert "link-local" in (url_refusal("https://169.254.169.254/latest/meta-data/", STRICT) or "")
    assert "loopback" in (url_refusal("https://[::1]:6379/", STRICT) or "")
    assert "private" in (url_refusal("https://10.0.0.5/admin", STRICT) or "")
    assert "loopback" in (url_refusal("https://localhost/", STRICT) or "")
    assert "credentials" in (url_refusal("https://user:pw@hooks.example.org/", STRICT) or "")
    assert url_refusal("http://127.0.0.1:8080/hook", PRIVATE_OK) is None


async def test_names_are_judged_by_every_address_they_resolve_to() -> None:
    stub = StubResolver({
        "public.example": ["93.184.215.14"],
        "metadata.example": ["169.254.169.254"],
        "mixed.example": ["93.184.215.14", "10.0.0.5"],  # one bad answer refuses the name
        "six.example": ["fd00::5"],
    })  # fmt: skip
    resolver = GuardedResolver(STRICT, stub)
    await check_url("https://public.example/hook", STRICT, resolver)
    for host, kind in (("metadata.example", "link-local"), ("mixed.example", "private"), ("six.example", "unique")):
        with pytest.raises(RefusedTarget, match=kind):
            await check_url(f"https://{host}/hook", STRICT, resolver)
    with pytest.raises(RefusedTarget, match="does not resolve"):
        await check_url("https://nowhere.example/hook", STRICT, resolver)
    with pytest.raises(RefusedTarget, match="link-local"):  # the resolver aiohttp connects through refuses it too
        await resolver.resolve("metadata.example", 443)
    assert (await resolver.resolve("public.example", 443))[0]["host"] == "93.184.215.14"
