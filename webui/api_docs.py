"""The REST API's reference at ``/api-docs``: Swagger UI (from the swagger-ui-bundle package, no
CDN) over the OpenAPI document that ``make proto`` generates (``proto/cts/openapi.json``).

Open without sign-in: the document is the public contract (it is in the repository) and holds
no data. Calls made with "Try it out" go to Envoy with the token the reader enters in
"Authorize"; the page's Content-Security-Policy allows exactly that origin besides its own.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from nicegui import app
from swagger_ui_bundle import swagger_ui_path

from server.settings import Settings

PATH = "/api-docs"
DOCUMENT_PATH = f"{PATH}/openapi.json"
ASSETS_PATH = f"{PATH}/assets"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>CTS API</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{PATH}/init.js"></script>
</body>
</html>
"""

INIT = f"""window.ui = SwaggerUIBundle({{
  url: "{DOCUMENT_PATH}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
}});
"""


@cache
def document() -> dict[str, Any]:
    """The committed OpenAPI document (shipped in the ``cts`` package)."""
    text = resources.files("cts").joinpath("openapi.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def api_origin(settings: Settings, request: Request) -> str:
    """Where Envoy answers, as the reader's browser reaches this host."""
    return f"{request.url.scheme}://{request.url.hostname}:{settings.http_port}"


def content_security_policy(api: str) -> str:
    """Stricter than the dashboard's (no inline or evaluated scripts); may call Envoy."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; font-src 'self' data:; connect-src 'self' {api}; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def register(settings: Settings) -> None:
    app.add_static_files(ASSETS_PATH, swagger_ui_path)

    @app.get(PATH, include_in_schema=False)
    def page(request: Request) -> HTMLResponse:
        policy = content_security_policy(api_origin(settings, request))
        return HTMLResponse(PAGE, headers={"content-security-policy": policy})

    @app.get(f"{PATH}/init.js", include_in_schema=False)
    def init() -> Response:
        return Response(INIT, media_type="text/javascript")

    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def openapi(request: Request) -> JSONResponse:
        served = {"servers": [{"url": api_origin(settings, request)}], **document()}
        return JSONResponse(served)
