"""The web application: FastAPI, server-rendered pages (Jinja2 + htmx) and the JSON API under
``/api/v1``, with sign-in, per-role authorization in the data access and an audit log."""

from learnway.web._app import create_app
from learnway.web._demo import DEMO_PASSWORD, set_demo_passwords, sign_in_links
from learnway.web._serve import serve

__all__ = ["DEMO_PASSWORD", "create_app", "serve", "set_demo_passwords", "sign_in_links"]
