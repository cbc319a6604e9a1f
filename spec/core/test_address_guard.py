import pytest

from services.core import address_guard
from services.core.address_guard import (
    guard_url,
    is_exempt,
    is_refused,
    literal_address,
    special_purpose_block,
)
from services.core.errors import ConfigurationError, InvalidUrlError

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10:8080/",
    "http://10.0.0.7/",
    "http://172.16.4.4/",
    "http://192.168.1.20/",
    "http://169.254.169.254/latest/meta-data/",
    "http://0.0.0.0/",
    "http://224.0.0.251/",
    "http://255.255.255.255/",
    "http://100.64.0.9/",
    "http://240.0.0.1/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hexadecimal
    "http://127.1/",  # short form
    "http://017700000001/",  # one octal number
    "http://[::1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::12]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:a00:7]/",  # IPv4-mapped 10.0.0.7, hex notation
    "http://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://localhost:4567/",
    "http://rebound.example.com/",  # a public-looking name resolving to 127.0.0.1
    "http://intranet.example.com/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_refuses_non_public_addresses(url):
    with pytest.raises(InvalidUrlError, match="Refused address"):
        guard_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/aha", "http://8.8.8.8/", "https://[2606:4700::1111]/x"],
)
def test_accepts_public_addresses(url):
    assert guard_url(url) == url


@pytest.mark.parametrize(
    "url", ["", "   ", "not a url", "ftp://files.example.com/", "http://", "http://host:99999/"]
)
def test_malformed_urls_are_invalid(url):
    with pytest.raises(InvalidUrlError, match="empty or invalid"):
        guard_url(url)


def test_a_name_that_does_not_resolve_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="Could not resolve host nowhere.invalid"):
        guard_url("https://nowhere.invalid/")


def test_every_address_of_a_name_must_be_public(fake_dns):
    fake_dns["split.example.com"] = ["93.184.215.14", "10.9.9.9"]
    with pytest.raises(InvalidUrlError, match="10.9.9.9"):
        guard_url("https://split.example.com/")


def test_legacy_ipv4_forms_are_read_as_addresses():
    assert str(literal_address("2130706433")) == "127.0.0.1"
    assert str(literal_address("0177.0.0.1")) == "127.0.0.1"
    assert str(literal_address("0x7f.1")) == "127.0.0.1"
    assert literal_address("example.com") is None
    assert literal_address("999.1.1.1.1") is None


def test_allowed_host_names_are_exempt(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "intranet.example.com, localhost")
    assert guard_url("http://intranet.example.com/jira") == "http://intranet.example.com/jira"
    assert guard_url("http://LOCALHOST:8080/") == "http://LOCALHOST:8080/"
    with pytest.raises(InvalidUrlError):
        guard_url("http://rebound.example.com/")


def test_allowed_ips_and_cidrs_are_exempt(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1,10.0.0.0/8")
    assert guard_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000/"
    assert guard_url("http://rebound.example.com/") == "http://rebound.example.com/"
    assert guard_url("http://10.200.1.1/") == "http://10.200.1.1/"
    with pytest.raises(InvalidUrlError):
        guard_url("http://127.0.0.2/")
    with pytest.raises(InvalidUrlError):
        guard_url("http://192.168.1.1/")


def test_allowed_hosts_are_read_at_each_call(monkeypatch):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1")
    guard_url("http://127.0.0.1/")
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "")
    with pytest.raises(InvalidUrlError):
        guard_url("http://127.0.0.1/")


def test_is_exempt_by_name_or_by_every_address(monkeypatch, fake_dns):
    assert not is_exempt("127.0.0.1")
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "fake.example.com,127.0.0.0/8")
    assert is_exempt("fake.example.com")
    assert is_exempt("rebound.example.com")
    assert not is_exempt("hooks.example.com")


def test_refused_address_is_named_but_not_the_url_path(monkeypatch):
    with pytest.raises(InvalidUrlError) as raised:
        guard_url("http://10.0.0.7/hook?token=abcdef123")
    assert "token" not in str(raised.value)
    assert address_guard.ALLOWED_HOSTS_VARIABLE in str(raised.value)


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("0.1.2.3", "this network, 0.0.0.0/8"),
        ("100.127.255.254", "shared address space, 100.64.0.0/10"),
        ("192.0.0.8", "IPv4 dummy address, 192.0.0.8/32"),
        ("192.0.0.170", "NAT64/DNS64 discovery, 192.0.0.170/32"),
        ("192.0.0.200", "IETF protocol assignments, 192.0.0.0/24"),
        ("192.0.2.55", "documentation (TEST-NET-1), 192.0.2.0/24"),
        ("192.88.99.1", "deprecated 6to4 relay anycast, 192.88.99.0/24"),
        ("198.19.0.1", "benchmarking, 198.18.0.0/15"),
        ("198.51.100.7", "documentation (TEST-NET-2), 198.51.100.0/24"),
        ("203.0.113.9", "documentation (TEST-NET-3), 203.0.113.0/24"),
        ("239.1.1.1", "multicast, 224.0.0.0/4"),
        ("250.0.0.1", "reserved, 240.0.0.0/4"),
        ("255.255.255.255", "limited broadcast, 255.255.255.255/32"),
        ("::", "unspecified, ::/128"),
        ("::1", "loopback, ::1/128"),
        ("::ffff:8.8.8.8", "IPv4-mapped, ::ffff:0:0/96"),
        ("64:ff9b:1::a", "local-use IPv4/IPv6 translation, 64:ff9b:1::/48"),
        ("100::1", "discard-only, 100::/64"),
        ("2001:2::1", "benchmarking, 2001:2::/48"),
        ("2001:100::1", "IETF protocol assignments, 2001::/23"),
        ("2001:db8::1", "documentation, 2001:db8::/32"),
        ("3fff::1", "documentation, 3fff::/20"),
        ("5f00::1", "segment routing SIDs, 5f00::/16"),
        ("fd12::1", "unique local, fc00::/7"),
        ("fe80::1", "link-local, fe80::/10"),
        ("fec0::1", "deprecated site-local, fec0::/10"),
        ("ff0e::1", "multicast, ff00::/8"),
    ],
)
def test_special_purpose_blocks_come_from_the_iana_registries(address, block):
    ip = literal_address(address)
    assert special_purpose_block(ip) == block
    assert is_refused(ip)


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.9",
        "192.0.0.10",
        "192.31.196.1",
        "2001:1::1",
        "2001:3::1",
        "2001:20::1",
        "2002:808:808::",
        "8.8.8.8",
        "2606:4700::1111",
    ],
)
def test_globally_reachable_entries_and_public_addresses_are_no_special_block(address):
    assert special_purpose_block(literal_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://192.0.0.8/",
        "http://[fec0::1]/",
        "http://[3fff::1]/",
        "http://[5f00::1]/",
        "http://[100:0:0:1::1]/",
        "http://192.0.2.1/",
        "http://[2001:db8::5]/",
    ],
)
def test_registry_blocks_are_refused_with_their_name(url):
    with pytest.raises(InvalidUrlError, match=r"is not a public address \(.+, [0-9a-f:./]+;"):
        guard_url(url)


def test_the_globally_reachable_anycast_addresses_in_192_0_0_0_24_are_accepted():
    assert guard_url("http://192.0.0.9/") == "http://192.0.0.9/"
    assert guard_url("http://192.0.0.10/") == "http://192.0.0.10/"


def test_globally_reachable_registry_entries_are_accepted_whatever_python_flags():
    # Python's tables call these reserved or private; IANA's registries say globally
    # reachable. On a DNS64 network every IPv4-only service has a NAT64 address.
    for url in (
        "http://[64:ff9b::5db8:d70e]/",  # NAT64 of 93.184.215.14
        "http://[2001:4:112::1]/",  # AS112-v6
        "http://[2001:1::3]/",  # DNS-SD service registration anycast
    ):
        assert guard_url(url) == url
    with pytest.raises(InvalidUrlError, match="NAT64 form of 127.0.0.1: loopback"):
        guard_url("http://[64:ff9b::7f00:1]/")
    with pytest.raises(InvalidUrlError, match="NAT64 form of 10.0.0.1: private use"):
        guard_url("http://[64:ff9b::a00:1]/")


def test_a_6to4_address_is_judged_by_the_ipv4_address_it_embeds():
    assert guard_url("http://[2002:808:808::1]/") == "http://[2002:808:808::1]/"
    with pytest.raises(InvalidUrlError, match="6to4 form of 10.0.0.1: private use"):
        guard_url("http://[2002:a00:1::]/")


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/",  # 6to4
        "http://[64:ff9b::7f00:1]/",  # NAT64
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "http://[::ffff:7f00:1]/",
    ],
)
def test_an_allowed_ipv4_address_does_not_exempt_its_ipv6_forms(monkeypatch, url):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "127.0.0.1, 10.0.0.0/8")
    assert guard_url("http://127.0.0.1/") == "http://127.0.0.1/"
    with pytest.raises(InvalidUrlError, match="Refused address"):
        guard_url(url)
    with pytest.raises(InvalidUrlError, match="Refused address"):
        guard_url("http://[::ffff:10.0.0.7]/")


def test_an_allowed_ipv6_network_exempts_only_its_own_addresses(monkeypatch, fake_dns):
    monkeypatch.setenv("AHA_SERVICES_ALLOWED_HOSTS", "fd00::/8")
    fake_dns["ula.example.com"] = ["fd00::5"]
    assert guard_url("http://ula.example.com/") == "http://ula.example.com/"
    assert is_exempt("ula.example.com")
    with pytest.raises(InvalidUrlError):
        guard_url("http://[fc00::5]/")
