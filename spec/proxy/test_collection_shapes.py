"""A remote collection answers [label, value] pairs of plain JSON, or fails naming what it
returned instead, alike on the fast path and in Flask."""

import datetime
import decimal
import json

import pytest
from werkzeug.test import Client

from proxy.app import create_app
from services.core import Service, select
from services.core.registry import Registry

RETURNED = {
    "dated": ([("Today", datetime.date(2026, 1, 2))], "collection.items[0][1] holds a date"),
    "decimal": ([("One", decimal.Decimal("1.5"))], "collection.items[0][1] holds a Decimal"),
    "not_a_number": ([("n", float("nan"))], "collection.items[0][1] is nan"),
    "text": ("ab", "a list of pairs, not a str"),
    "mapping": ({"a": 1}, "a list of pairs, not a dict"),
    "triple": ([("a", 1, 2)], "pair, not 3 items"),
    "bare": ([7], "pair, not int"),
}


def _field(name):
    return select(name, collection=lambda meta_data, data: RETURNED[name][0])


def _pairs(meta_data, data):
    return (pair for pair in [("One", 1), ["Two", "2"]])


class Shapes(Service):
    schema = (*(_field(name) for name in RETURNED), select("fine", collection=_pairs))


@pytest.fixture
def app():
    registry = Registry()
    registry.add(Shapes, "spec")
    return create_app(registry)


def ask(wsgi_app, field):
    body = json.dumps({"service_name": "shapes", "field_name": field}).encode()
    response = Client(wsgi_app).post(
        "/remote_collection", data=body, content_type="application/json"
    )
    return response.status, dict(response.headers), response.get_data()


@pytest.mark.parametrize("field", list(RETURNED))
def test_a_collection_of_another_shape_fails_naming_it_on_both_paths(app, field):
    fast = ask(app, field)
    assert fast == ask(app.wsgi_app.app, field)
    status, _, body = fast
    assert status == "500 INTERNAL SERVER ERROR"
    answer = json.loads(body)
    assert RETURNED[field][1] in answer["error"]
    assert answer["exception"]["exception_class"] == "TypeError"


def test_a_generator_of_pairs_is_answered_as_a_list(app):
    status, _, body = ask(app, "fine")
    assert status == "200 OK"
    assert json.loads(body) == [["One", 1], ["Two", "2"]]


def _refused(meta_data, data):
    raise RuntimeError(f"refused {meta_data.access_token}")


class Keeper(Service):
    secret_meta_data = ("access_token",)
    schema = (select("things", collection=_refused),)


def test_a_failing_collection_redacts_the_secrets_kept_in_meta_data():
    registry = Registry()
    registry.add(Keeper, "spec")
    body = json.dumps(
        {"service_name": "keeper", "field_name": "things", "meta_data": {"access_token": "at-42x"}}
    ).encode()
    response = Client(create_app(registry)).post(
        "/remote_collection", data=body, content_type="application/json"
    )
    assert response.status_code == 500
    assert b"at-42x" not in response.get_data()
    assert response.get_json()["error"] == "refused [FILTERED]"
