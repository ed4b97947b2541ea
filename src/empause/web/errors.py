"""Refusals that say what to do next, as a page for people and as JSON for automation."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from empause.web.templating import render

log = logging.getLogger(__name__)

# What a person is told for the statuses the framework raises itself (unknown page, ...).
_PAGES = {
    404: (
        "Page not found",
        "There is no page at this address. Check the link, or start again from the dashboard.",
    ),
    405: (
        "Not allowed here",
        "This address does not take that kind of request. Start again from the dashboard.",
    ),
    500: (
        "Something went wrong on our side",
        "The request failed and has been logged. Try "
        "again; if it keeps failing, tell whoever runs this installation. A pause already "
        "under way carries on.",
    ),
}


class WebError(Exception):
    """A refusal with an HTTP status, a short title and advice."""

    status = 400
    title = "Something went wrong"

    def __init__(self, detail: str, *, title: str | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        if title:
            self.title = title
        if status:
            self.status = status


class NotSignedIn(WebError):
    status = 401
    title = "Please sign in"


class Forbidden(WebError):
    status = 403
    title = "Not allowed"


class CsrfFailed(Forbidden):
    title = "This form has expired"


class NotFound(WebError):
    status = 404
    title = "Not found"


class Unavailable(WebError):
    status = 503
    title = "Try again in a moment"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


async def web_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    if _wants_json(request):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            {"error": exc.title, "detail": exc.detail}, status_code=exc.status, headers=headers
        )
    if isinstance(exc, NotSignedIn) and request.method == "GET":
        return RedirectResponse("/", status_code=303)
    return render(
        request, "error.html", {"title": exc.title, "detail": exc.detail}, status_code=exc.status
    )


async def _page(request: Request, status: int, title: str, detail: str) -> Response:
    """An error page for people, with the header, the viewer and the banner when signed in."""
    from empause.web.deps import optional_viewer  # deps raises this module's errors

    try:
        await optional_viewer(request)
    except Exception:
        request.state.viewer = None
    return render(request, "error.html", {"title": title, "detail": detail}, status_code=status)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """The framework's own refusals (404 unknown address, 405 ...): JSON for the API and
    scripts, a page for people."""
    assert isinstance(exc, HTTPException)
    title, detail = _PAGES.get(exc.status_code, ("Something went wrong", str(exc.detail)))
    if _wants_json(request):
        return JSONResponse(
            {"error": title.lower(), "detail": str(exc.detail)},
            status_code=exc.status_code, headers=exc.headers,
        )  # fmt: skip
    return await _page(request, exc.status_code, title, detail)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    """An unexpected failure: logged with its traceback, answered without one."""
    log.error("request failed", exc_info=exc, extra={"path": request.url.path})
    title, detail = _PAGES[500]
    if _wants_json(request):
        return JSONResponse({"error": "internal error", "detail": detail}, status_code=500)
    return await _page(request, 500, title, detail)


async def validation_handler(request: Request, exc: Exception) -> Response:
    """422 listing each field that was wrong and why (no stack traces, no echo of secrets)."""
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        problems.append({"field": where, "problem": error.get("msg", "invalid")})
    if _wants_json(request):
        return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)
    detail = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return render(request, "error.html", {"title": "Please check the form", "detail": detail}, 422)


async def too_deep_handler(request: Request, exc: Exception) -> Response:
    """JSON nested deeper than the parser's recursion limit: bad input, not a server error."""
    return JSONResponse(
        {"error": "invalid request", "detail": "the body is nested too deeply"}, status_code=400
    )
