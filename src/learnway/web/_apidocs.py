"""The interactive API documentation at ``/api/v1/docs``: Swagger UI from vendored assets.

Swagger UI 5.35.0 (``swagger-ui-dist``, Apache-2.0, licence and notice kept beside it) lives in
``static/vendor/swagger-ui/``; ``static/apidocs.js`` starts it. The page has no inline script
and loads nothing from elsewhere, so the content security policy lets it render.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from learnway.web._deps import Public

router = APIRouter(include_in_schema=False)

VENDOR = "/static/vendor/swagger-ui"
PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Learnway API</title>
<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">
<link rel="icon" type="image/png" href="{VENDOR}/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui" data-openapi="/api/v1/openapi.json"></main>
<script src="{VENDOR}/swagger-ui-bundle.js"></script>
<script src="/static/apidocs.js"></script>
</body>
</html>
"""


@router.get("/docs", dependencies=[Public], response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    """Swagger UI on the OpenAPI document."""
    return HTMLResponse(PAGE)
