"""Hootsuite's two error shapes: the REST `errors` envelope and RFC 6749 OAuth errors.

Handlers raise ApiError / OAuthError; the app turns them into responses, so bad input
never becomes a 500.
"""

from __future__ import annotations

import uuid

# The spec's error-code table (only the codes the sandbox emits).
MESSAGES = {
    1000: "Missing or duplicate access token",
    1001: "Invalid access token",
    1003: "Account plan limit exceeded",
    1043: "Too many requests",
    1100: "Invalid JSON schema",
    2303: "Invalid organization ID",
    2304: "Invalid member ID",
    3003: "Unable to find an organization with that ID",
    3005: "Invalid team ID",
    3020: "Invalid cursor format",
    4000: "Schema validation failed",
    4001: "Resource not found",
    4002: "Insufficient permissions to view organization members",
    4003: "Insufficient permissions to view member permissions",
    4004: "Insufficient permissions to view member organizations",
    4005: "Insufficient permissions to view team members",
    4006: "Insufficient permissions to view team",
    4008: "Insufficient permissions to view team social profile",
    4009: "Insufficient organization permissions",
    4010: "Insufficient permissions to view organization teams",
    5000: "An unknown error occurred",
    5001: "HTTP method not permitted",
    9000: "An internal error occurred",
    40001: "Social profile isn't owned by organization (required for posting messages with tags)",
    40003: "You have attempted to delete a message that cannot be deleted in its current state",
    40004: "Only attachments from http://static.ow.ly or http://ow.ly/i/ are currently allowed",
    40019: "Message state filter not supported",
    40020: "Specified date range is too large",
    40023: "Twitter only allows 1 network per message",
}


class ApiError(Exception):
    """A REST error: HTTP status plus one `errors` entry."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str | None = None,
        resource: dict | None = None,
    ):
        super().__init__(message or MESSAGES.get(code, "Error"))
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        self.resource = resource

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message, "id": uuid.uuid4().hex}
        if self.resource:
            error["resource"] = self.resource
        return {"errors": [error]}


class OAuthError(Exception):
    """An RFC 6749 error from /oauth2/token."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict:
        return {
            "error": self.error,
            "error_description": self.description,
            "status_code": self.status,
        }
