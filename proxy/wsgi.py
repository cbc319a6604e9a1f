"""The WSGI entry point that gunicorn serves."""

from proxy.app import create_app

app = create_app()
