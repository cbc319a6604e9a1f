"""The WSGI entry point that gunicorn serves."""

from proxy.serving import serving_app

app = serving_app()
