"""``python -m services.core.cli``: the command line without its console script."""

from services.core.cli.app import run

run()
