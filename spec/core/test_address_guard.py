import pytest

from services.core import address_guard
from services.core.address_guard import guard_url, is_exempt, literal_address
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
    assert guard_url("http://[::ffff:10.0.0.7]/") == "http://[::ffff:10.0.0.7]/"
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
