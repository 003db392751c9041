"""The ``learnway`` command line: a thin shell over the library and the store."""

from learnway.cli._app import app, main

__all__ = ["app", "main"]
