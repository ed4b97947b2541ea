"""SocialHub's two error shapes (seed 002): `Error {code, message}` and
`ValidationError {code, message, errors: {field: [reason, ...]}}`.

Handlers raise ShError; the app turns it into a response, so bad input never becomes a 500.
Codes match the spec's pattern `^[a-zA-Z]*$`.
"""

from __future__ import annotations

# HTTP status -> the code the sandbox answers with (the spec's response names).
CODES = {
    400: "BadRequest",
    401: "AccessTokenInvalid",
    403: "InsufficientPermissions",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}
MESSAGES = {
    400: "The request was malformed and rejected.",
    401: "The specified access token is not or no longer valid.",
    403: "The user does not have the required permissions for the operation.",
    404: "The requested resource could not be found.",
    405: "The HTTP method is not allowed on this route.",
    409: "The request is not valid on this entity.",
    429: "Too many requests from this source.",
    500: "There was an unexpected error.",
    503: "The service is temporarily unavailable.",
}
VALIDATION = "ValidationError"


class ShError(Exception):
    """An API error: HTTP status, code, message, and (validation errors) per-field reasons."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        code: str | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        self.status = status
        self.code = code or (VALIDATION if errors else CODES.get(status, "Error"))
        self.message = message or MESSAGES.get(status, "Error")
        self.errors = errors
        super().__init__(self.message)

    def body(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def invalid(field: str, reason: str, message: str | None = None) -> ShError:
    """A 400 ValidationError naming one field and one of the spec's reasons."""
    return ShError(400, message or f"Validation failed: {field}: {reason}",
                   errors={field: [reason]})  # fmt: skip


def conflict(message: str) -> ShError:
    return ShError(409, message)


def not_found(what: str, ident: str) -> ShError:
    return ShError(404, f"{what} {ident} not found")
