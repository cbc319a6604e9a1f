"""The baseline: a Flask app that answers an event with nothing to do, the limit a Flask
proxy can reach.

It answers ``POST /send_event`` as the proxy answers an event no service handles
(``{"messages": [], "meta_data": <the request's meta_data>}``) and ``GET /configuration``
with no services. ``make bench`` serves it with plain ``gunicorn -w 2 --threads 4``.
"""

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.get("/configuration")
def configuration() -> Response:
    return jsonify(services=[])


@app.post("/send_event")
def send_event() -> Response:
    return jsonify(messages=[], meta_data=request.get_json().get("meta_data"))
