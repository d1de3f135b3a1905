"""The web page (static/) and the API docs: Swagger UI and ReDoc from files installed with
the function, never a CDN.

fastapi-offline (requirements/serving.txt) ships swagger-ui-dist's and ReDoc's bundles;
only its folder is used (found without importing it). Every URL in the two pages is
relative, so they work at / and under an API Gateway stage (/prod/docs) alike.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from functions.api.errors import error_response
from functions.common.observability import logger

STATIC = Path(__file__).resolve().parents[1] / "static"
# The page's own files, listed once: a name is looked up, never joined to a path, so no
# name (``..``, a NUL byte, 300 characters) can reach the file system.
_STATIC_FILES = frozenset(p.name for p in STATIC.iterdir() if p.is_file())
_DOCS_SPEC = importlib.util.find_spec("fastapi_offline")
DOCS_ASSETS = Path(next(iter(_DOCS_SPEC.submodule_search_locations))) / "static" if _DOCS_SPEC else None
if DOCS_ASSETS is None:  # /docs and /redoc would be blank pages: say so at the cold start
    logger.error("fastapi-offline is not installed: /docs and /redoc have no scripts to serve")
_DOCS_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "redoc.standalone.js": "text/javascript; charset=utf-8", "favicon.png": "image/png"}

# ReDoc's sidebar draws Redocly's logo from their CDN, whatever its options: the bundle is
# served with that one URL replaced by an empty inline image (the link text stays).
_REDOC_CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
_EMPTY_SVG = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"

router = APIRouter(include_in_schema=False)


@functools.cache
def _redoc_js() -> bytes:
    return (DOCS_ASSETS / "redoc.standalone.js").read_bytes().replace(_REDOC_CDN_LOGO, _EMPTY_SVG)


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="openapi.json", title=f"{request.app.title} - Swagger UI",
        swagger_js_url="docs-assets/swagger-ui-bundle.js", swagger_css_url="docs-assets/swagger-ui.css",
        swagger_favicon_url="docs-assets/favicon.png",
        # No badge that sends the schema to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url="openapi.json", title=f"{request.app.title} - ReDoc",
                          redoc_js_url="docs-assets/redoc.standalone.js", redoc_favicon_url="docs-assets/favicon.png",
                          with_google_fonts=False)


@router.get("/docs-assets/{name}")
def docs_asset(request: Request, name: str) -> Response:
    if name not in _DOCS_TYPES or DOCS_ASSETS is None or not (DOCS_ASSETS / name).is_file():
        return error_response(request, "not_found", "no such file", 404)
    headers = {"Cache-Control": "public, max-age=86400"}
    if name == "redoc.standalone.js":
        return Response(_redoc_js(), media_type=_DOCS_TYPES[name], headers=headers)
    return FileResponse(DOCS_ASSETS / name, media_type=_DOCS_TYPES[name], headers=headers)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/{name}")
def static_file(request: Request, name: str) -> Response:
    if name not in _STATIC_FILES:
        return error_response(request, "not_found", "no such file", 404)
    return FileResponse(STATIC / name)
