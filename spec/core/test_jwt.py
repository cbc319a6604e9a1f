import base64
import hashlib
import hmac
import json

from services.core.jwt import canonical_path, canonical_query, encode_hs256, query_string_hash


def test_tokens_are_hs256_signed_and_compact():
    token = encode_hs256({"iss": "app", "iat": 1}, "s3cret")
    header, body, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(body + "==")) == {"iss": "app", "iat": 1}
    expected = hmac.new(b"s3cret", f"{header}.{body}".encode(), hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "==") == expected
    assert "=" not in token


def test_the_canonical_query_is_sorted_encoded_and_leaves_out_jwt():
    query = "maxResults=50&expand=a,b&jql=project = PAY&jwt=old&expand=c&q=%2A~"
    assert canonical_query(query) == ("expand=a%2Cb,c&jql=project%20%3D%20PAY&maxResults=50&q=%2A~")
    assert canonical_query("") == ""


def test_the_canonical_path_and_the_hash():
    assert canonical_path("") == "/"
    assert canonical_path("/rest/api/2/issue/") == "/rest/api/2/issue"
    assert canonical_path("/a&b") == "/a%26b"
    expected = hashlib.sha256(b"GET&/rest/api/2/field&").hexdigest()
    assert query_string_hash("get", "/rest/api/2/field", "") == expected
