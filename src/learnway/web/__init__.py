"""The web application: FastAPI, server-rendered pages and the JSON API under /api/v1."""
