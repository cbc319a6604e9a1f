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


@pytest.mark.parametrize("short", [None, "", "a", "abc", 12])
def test_short_or_empty_values_are_not_secrets(short):
    redact = Redactor([short])
    assert redact("abc a 12 None and more") == "abc a 12 None and more"


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
