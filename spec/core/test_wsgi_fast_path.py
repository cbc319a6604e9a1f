"""The shared fast path: it reads only what it may take, and the app gets every body it
passes on, whole."""

import io

from services.core.wsgi_fast_path import JsonFastPath


class Echo(JsonFastPath):
    def takes(self, environ):
        return environ["PATH_INFO"] == "/fast"

    def answer(self, environ, body):
        return ("200 OK", b'{"fast":true}\n') if body == b"{}" else None


def app(environ, start_response):
    start_response("418 I'M A TEAPOT", [])
    return [b"app:" + environ["wsgi.input"].read()]


def call(path, body, length=None):
    started = []
    environ = {
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)) if length is None else length,
        "wsgi.input": io.BytesIO(body),
    }
    result = Echo(app, max_body=10)(environ, lambda status, headers: started.append(status))
    return started[0], b"".join(result)


def test_a_request_it_answers_gets_json():
    assert call("/fast", b"{}") == ("200 OK", b'{"fast":true}\n')


def test_what_it_leaves_reaches_the_app_with_the_body():
    assert call("/fast", b"[1]") == ("418 I'M A TEAPOT", b"app:[1]")
    assert call("/slow", b"{}") == ("418 I'M A TEAPOT", b"app:{}")


def test_a_body_shorter_than_its_length_is_the_app_s_to_judge():
    assert call("/fast", b"{}", length="5") == ("418 I'M A TEAPOT", b"app:{}")


def test_a_body_without_a_usable_length_is_not_read():
    for length in ("", "x", "-1", "11"):
        assert call("/fast", b"{}", length=length) == ("418 I'M A TEAPOT", b"app:{}")
