import base64
import json
from urllib.parse import quote, quote_plus

import pytest

from services.core.redaction import FILTERED, Redactor


def test_filtered_marker():
    assert FILTERED == "[FILTERED]"


def test_known_secrets_are_replaced():
    redact = Redactor(["hunter22", "s3cr3t-value"])
    assert redact("password hunter22 and s3cr3t-value, hunter22 again") == (
        "password [FILTERED] and [FILTERED], [FILTERED] again"
    )


def test_longest_secret_is_replaced_first():
    redact = Redactor(["supersecret", "supersecret-longer"])
    assert redact("supersecret-longer and supersecret") == "[FILTERED] and [FILTERED]"
    assert "-longer" not in redact("supersecret-longer")


def test_secrets_added_later_are_replaced_too():
    redact = Redactor()
    assert redact("my-api-key-9") == "my-api-key-9"
    redact.add("my-api-key-9")
    assert redact("my-api-key-9") == FILTERED


@pytest.mark.parametrize("empty", [None, "", "   ", "\n"])
def test_empty_values_are_not_secrets(empty):
    redact = Redactor([empty])
    assert redact("abc a 12 None and more\n") == "abc a 12 None and more\n"


@pytest.mark.parametrize("short", ["a1", "abc", "pw1234", 12])
def test_declared_secrets_shorter_than_eight_characters_are_redacted(short):
    redact = Redactor([short])
    assert str(short) not in redact(f"the password is {short}.")
    assert redact(f"the password is {short}.") == "the password is [FILTERED]."


def test_non_string_secrets_and_messages_are_compared_as_text():
    redact = Redactor([123456])
    assert redact("pin 123456") == "pin [FILTERED]"
    assert redact(7123456) == "7[FILTERED]"
    assert redact(None) == "None"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://x.io/a?access_token=zzz&page=2",
            "GET https://x.io/a?access_token=[FILTERED]&page=2",
        ),
        ("https://x.io/a?page=1&api_key=k1#frag", "https://x.io/a?page=1&api_key=[FILTERED]#frag"),
        ("https://x.io/a?client_secret=s&x=1", "https://x.io/a?client_secret=[FILTERED]&x=1"),
        ("https://x.io/a?password=p w", "https://x.io/a?password=[FILTERED] w"),
        ("https://x.io/a?Signature=abc%2F", "https://x.io/a?Signature=[FILTERED]"),
        ("https://x.io/a?X-Amz-Credential=c&q=1", "https://x.io/a?X-Amz-Credential=[FILTERED]&q=1"),
        ("https://x.io/a?Private-Token=zzz", "https://x.io/a?Private-Token=[FILTERED]"),
        ("https://x.io/a?b=1;passwd=zzz", "https://x.io/a?b=1;passwd=[FILTERED]"),
        ("https://x.io/a?page=2&sig=3", "https://x.io/a?page=2&sig=[FILTERED]"),
    ],
)
def test_query_parameters_named_like_credentials_are_filtered(text, expected):
    assert Redactor()(text) == expected


def test_the_first_parameter_of_a_form_encoded_string_is_filtered():
    assert Redactor()("access_token=gho_abc123&scope=repo") == (
        "access_token=[FILTERED]&scope=repo"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"access_token": "tok123", "name": "x"}', '{"access_token": "[FILTERED]", "name": "x"}'),
        ('{"refresh_token":"r1"}', '{"refresh_token":"[FILTERED]"}'),
        ('{"client_secret" : "s"}', '{"client_secret" : "[FILTERED]"}'),
        ('{"password": "p", "user": "u"}', '{"password": "[FILTERED]", "user": "u"}'),
        ('{"apiKey": "k", "api_key": "k2"}', '{"apiKey": "[FILTERED]", "api_key": "[FILTERED]"}'),
        ('{"credentials": ""}', '{"credentials": "[FILTERED]"}'),
        ('{"name": "token", "key": "board"}', '{"name": "token", "key": "board"}'),
    ],
)
def test_json_members_named_like_credentials_are_filtered(text, expected):
    assert Redactor()(text) == expected


def test_a_json_secret_with_an_escaped_quote_is_filtered_whole():
    assert Redactor()(r'{"password": "pa\"ss", "user": "u"}') == (
        '{"password": "[FILTERED]", "user": "u"}'
    )


def test_json_members_inside_json_text_are_filtered_at_every_depth():
    # A server echoes the body it was sent as a JSON string, inside a JSON answer that
    # a log line or a stored event escapes once more.
    inner = {"feature": {"description": json.dumps({"password": "deep-pw"})}, "token": "t1"}
    once = json.dumps({"ok": True, "echo": json.dumps(inner)})
    twice = json.dumps({"body": once})
    for text in (once, twice):
        out = Redactor()(text)
        assert "deep-pw" not in out and "t1" not in out
        assert json.loads(out)
    assert json.loads(json.loads(Redactor()(once))["echo"])["token"] == FILTERED


def test_an_escaped_json_member_ends_at_its_own_quote():
    text = json.dumps({"x": json.dumps({"api_key": 'a"b', "name": "kept"})})
    out = Redactor()(text)
    assert json.loads(json.loads(out)["x"]) == {"api_key": FILTERED, "name": "kept"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [FILTERED]"),
        ("authorization: bearer eyJhbGciOi.J9.x_Y-z1", "authorization: bearer [FILTERED]"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [FILTERED]"),
        ("Basic am86czNjcjN0", "Basic [FILTERED]"),
    ],
)
def test_bearer_and_basic_credentials_are_filtered(text, expected):
    assert Redactor()(text) == expected


@pytest.mark.parametrize(
    "prose",
    [
        "Basic authentication failed",
        "basic auth is not enabled",
        "Bearer tokens are required for this endpoint",
        "Use the Bearer scheme",
    ],
)
def test_prose_after_the_scheme_words_is_untouched(prose):
    assert Redactor()(prose) == prose


def test_a_basic_credential_of_letters_only_is_filtered():
    assert Redactor()("Authorization: Basic dXNlcjpwYXNz") == "Authorization: Basic [FILTERED]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "GET https://user:pa55@host.example.com/path",
            "GET https://[FILTERED]@host.example.com/path",
        ),
        ("ftp://u:p@h/file", "ftp://[FILTERED]@h/file"),
        ("HTTPS://Jo:Secret@X.io", "HTTPS://[FILTERED]@X.io"),
    ],
)
def test_user_and_password_in_urls_are_filtered(text, expected):
    assert Redactor()(text) == expected


def test_text_without_credentials_is_untouched():
    text = 'GET https://jira.example.com/rest/api/2/issue/X-1?fields=summary => 200 {"key": "X-1"}'
    assert Redactor(["not-in-there"])(text) == text
    assert Redactor()("mail jo@example.com at mailto:jo@example.com") == (
        "mail jo@example.com at mailto:jo@example.com"
    )


def test_all_rules_apply_together():
    redact = Redactor(["my-known-secret"])
    text = (
        "POST https://u:p@x.io/hook?token=t1 my-known-secret "
        '{"secret": "s"} Authorization: Bearer 1234abcd'
    )
    assert redact(text) == (
        "POST https://[FILTERED]@x.io/hook?token=[FILTERED] [FILTERED] "
        '{"secret": "[FILTERED]"} Authorization: Bearer [FILTERED]'
    )


def test_oauth_header_values_are_filtered():
    header = 'Authorization: OAuth oauth_consumer_key="pub-123456", oauth_token="tok-abc-123456"'
    assert Redactor()(header) == (
        'Authorization: OAuth oauth_consumer_key="[FILTERED]", oauth_token="[FILTERED]"'
    )


SECRETS_WITH_SPECIAL_CHARACTERS = [
    "RMKEY-s3cr3t-0123456789\n",
    '  pa"ss\\word-0042  ',
    "clé-secrète-ünïcode",
    'it\'s a "quoted" key/with+plus&amp',
    "tab\tand\rreturn",
]


def forms_of(secret):
    """Every form the spec expects filtered, written independently of the module."""
    forms = set()
    for text in (secret, secret.strip()):
        forms |= {
            text,
            json.dumps(text)[1:-1],
            json.dumps(text, ensure_ascii=False)[1:-1],
            repr(text)[1:-1],
            quote(text),
            quote(text, safe=""),
            quote_plus(text),
        }
    return forms


@pytest.mark.parametrize("secret", SECRETS_WITH_SPECIAL_CHARACTERS)
def test_every_encoded_form_of_a_secret_is_filtered(secret):
    redact = Redactor([secret])
    for form in forms_of(secret):
        assert redact(f"before {form} after") == "before [FILTERED] after", form


@pytest.mark.parametrize("secret", SECRETS_WITH_SPECIAL_CHARACTERS)
def test_a_secret_echoed_in_a_json_body_is_filtered(secret):
    body = json.dumps({"errors": [f"Invalid key {secret}"]})
    ascii_body = json.dumps({"errors": [f"Invalid key {secret}"]}, ensure_ascii=False)
    for text in (body, ascii_body):
        assert "[FILTERED]" in Redactor([secret])(text)
        assert json.dumps(secret)[1:-1].strip() not in Redactor([secret])(text)


def test_a_secret_in_a_repr_of_a_longer_text_with_both_quotes_is_filtered():
    secret = "it's-s3cret"
    text = repr({"X-Key": secret, "note": 'say "hi"'})
    message = repr(f'header "{secret}"')
    redact = Redactor([secret])
    assert secret.replace("'", "\\'") in message
    assert "s3cret" not in redact(text)
    assert "s3cret" not in redact(message)


def test_a_header_value_error_quoting_a_pasted_newline_is_filtered():
    secret = "RMKEY-s3cr3t-0123456789\n"
    message = f"Invalid leading whitespace, or return character(s) in header value: {secret!r}"
    assert Redactor([secret])(message) == (
        "Invalid leading whitespace, or return character(s) in header value: '[FILTERED]'"
    )


def test_a_secret_in_a_bytes_repr_is_filtered():
    secret = "clé-0123456789"
    text = f"header value: {secret.encode()!r}"
    assert Redactor([secret])(text) == "header value: b'[FILTERED]'"


def test_a_short_secret_inside_the_filtered_marker_does_not_mangle_it():
    redact = Redactor(["supersecret-1", "E"])
    assert redact("supersecret-1 E") == "[FILTERED] [FILTERED]"


@pytest.mark.parametrize(
    ("user", "secret"), [("u", "p"), ("jo", "s3"), ("jo@example.com", "pässwörd-0123")]
)
def test_basic_credentials_of_any_length_are_filtered(user, secret):
    """Basic detection covers the base64 of ``user:secret`` however short the secret."""
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    for text in (f"Authorization: Basic {token}", repr({"Authorization": f"Basic {token}"})):
        assert token not in Redactor()(text)


def test_environment_values_keep_their_length_floor(monkeypatch):
    monkeypatch.setenv("SHORT_TOKEN", "abc12")
    monkeypatch.setenv("LONG_TOKEN", "abcdef-123456")
    redact = Redactor()
    assert redact("abc12 abcdef-123456") == "abc12 [FILTERED]"


def test_forms_are_computed_when_a_secret_is_added_not_per_line(monkeypatch):
    from services.core import redaction

    redact = Redactor(["p@ss w/ord+é"])
    monkeypatch.setattr(redaction, "secret_forms", lambda secret: pytest.fail("computed per line"))
    assert redact("x p%40ss%20w%2Ford%2B%C3%A9 y") == "x [FILTERED] y"


def test_short_declared_secrets_of_a_service_are_redacted_from_its_log():
    from services.core import Service, password, string

    class Short(Service):
        schema = (string("user"), password("pin"))
        secret_settings = ("oauth_secret",)
        secret_meta_data = ("refresh",)

        def receive_create_feature(self):
            self.keep_secret("t9")
            self.logger.info("values: p1, o2, r3, t9, jo")

    service = Short({"user": "jo", "pin": "p1", "oauth_secret": "o2"}, {}, {"refresh": "r3"})
    service.receive("create_feature")
    assert service.logger.messages[-1]["message"] == (
        "values: [FILTERED], [FILTERED], [FILTERED], [FILTERED], jo"
    )


def test_a_changed_environment_is_read_again_by_the_next_redactor(monkeypatch):
    monkeypatch.setenv("BENCH_API_TOKEN", "first-value-123")
    assert Redactor()("first-value-123") == FILTERED
    monkeypatch.setenv("BENCH_API_TOKEN", "second-value-456")
    redact = Redactor()
    assert redact("first-value-123 second-value-456") == f"first-value-123 {FILTERED}"
    monkeypatch.delenv("BENCH_API_TOKEN")
    assert Redactor()("second-value-456") == "second-value-456"


def test_a_secret_added_to_one_redactor_stays_out_of_the_others(monkeypatch):
    monkeypatch.setenv("BENCH_API_TOKEN", "shared-value-123")
    first, second = Redactor(["own-secret-1"]), Redactor()
    first.add("later-secret-2")
    assert first("shared-value-123 own-secret-1 later-secret-2") == " ".join([FILTERED] * 3)
    assert second("shared-value-123 own-secret-1 later-secret-2") == (
        f"{FILTERED} own-secret-1 later-secret-2"
    )
