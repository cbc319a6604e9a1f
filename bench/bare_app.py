"""The baseline: a Flask app that only echoes JSON, the limit a Flask proxy can reach.

gunicorn serves it with the proxy's own settings, so only the app differs.
"""

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.get("/configuration")
def configuration() -> Response:
    return jsonify(services=[])


@app.post("/send_event")
def send_event() -> Response:
    return jsonify(request.get_json())
