"""Refusals that say what to do next, as a page for people and as JSON for automation."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from empause.web.templating import render


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
