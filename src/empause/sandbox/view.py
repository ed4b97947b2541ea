"""The sandbox's human view at `/`: the planner and a compose form, for the demo.

Served only where the control API is (`--seed`): `GET /` (the page), `GET
/_sandbox/planner.json` (what the page refreshes itself from), `POST /_sandbox/compose` (the
form) and the page's own CSS and script under `/_sandbox/static/`. No inline script or style,
so the page runs under a strict Content-Security-Policy.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape

from empause.sandbox import planner
from empause.sandbox.compose import (
    TEXT_MAX,
    WHEN_CHOICES,
    WHEN_DEFAULT,
    FormError,
    compose,
    when_label,
)
from empause.sandbox.errors import ApiError
from empause.sandbox.http import Request, Response, json_response
from empause.sandbox.state import Sandbox

HERE = Path(__file__).parent
PLANNER_PATH = "/"
REFRESH_MS = 3000  # how often the page asks for planner.json
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
STATIC = {"planner.css": b"text/css; charset=utf-8", "planner.js": b"text/javascript"}


class HumanView:
    """The page, its JSON and its form; templates and static files loaded once."""

    def __init__(self) -> None:
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.static = {name: (HERE / "static" / name).read_bytes() for name in STATIC}

    def routes(self) -> list[tuple[str, str, object]]:
        return [
            ("GET", PLANNER_PATH, self.page),
            ("GET", "/_sandbox/planner.json", self.planner_json),
            ("POST", "/_sandbox/compose", self.compose),
            ("GET", "/_sandbox/static/{name}", self.static_file),
        ]

    # --- handlers ----------------------------------------------------------------------
    def page(self, sb: Sandbox, req: Request) -> Response:
        organization_id = _organization(sb, req.arg("organization"))
        created = req.arg("created")
        return self._render(sb, organization_id, created=created)

    def planner_json(self, sb: Sandbox, req: Request) -> Response:
        organization_id = _organization(sb, req.arg("organization"))
        return json_response(planner.planner(sb.world, organization_id, sb.clock.now()))

    def compose(self, sb: Sandbox, req: Request) -> Response:
        form = req.form()
        member = sb.world.members.get(form.get("member", ""))
        organization_id = member.organization_id if member else _organization(sb, None)
        try:
            if not _same_origin(req):
                raise FormError(403, "Post the form from the sandbox's own page")
            done = compose(sb, form)
        except FormError as exc:
            return self._render(sb, organization_id, form=form, problem=exc.message,
                                status=exc.status)  # fmt: skip
        query = {"organization": done.message.organization_id, "created": done.message.id}
        location = PLANNER_PATH + "?" + urlencode(query) + "#planner"
        return Response(303, b"", b"text/plain", [(b"location", location.encode())])

    def static_file(self, sb: Sandbox, req: Request) -> Response:
        name = req.params["name"]
        if name not in self.static:
            raise ApiError(404, 4001, f"No file {name}")
        cache = [(b"cache-control", b"no-cache")]
        return Response(200, self.static[name], STATIC[name], cache)

    # --- rendering ---------------------------------------------------------------------
    def _render(
        self,
        sb: Sandbox,
        organization_id: str,
        form: dict[str, str] | None = None,
        problem: str | None = None,
        status: int = 200,
        created: str | None = None,
    ) -> Response:
        world = sb.world
        members = planner.authors(world, organization_id)
        # Staff by default: the member whose posts a pause holds.
        staff = next((m.id for m in members if m.needs_approval), "")
        form = form or {}
        values = {
            "member": form.get("member", staff),
            "profile": form.get("profile", ""),
            "text": form.get("text", ""),
            "when": form.get("when", str(WHEN_DEFAULT)),
            "at": form.get("at", ""),
        }
        html = self.env.get_template("planner.html").render(
            view=planner.planner(world, organization_id, sb.clock.now()),
            organizations=list(world.organizations.values()),
            organization_id=organization_id,
            members=members,
            profiles=[
                (p.id, planner.profile_label(p)) for p in planner.profiles(world, organization_id)
            ],
            form=values,
            when_choices=[(m, when_label(m)) for m in WHEN_CHOICES],
            text_max=TEXT_MAX,
            problem=problem,
            created=_created(sb, created, organization_id),
            refresh_ms=REFRESH_MS,
            planner_path=PLANNER_PATH,
        )
        headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"cache-control", b"no-store"),
        ]
        return Response(status, html.encode(), b"text/html; charset=utf-8", headers)


def _created(sb: Sandbox, message_id: str | None, organization_id: str) -> dict | None:
    """The message the form just created, for the notice above the planner."""
    message = sb.world.messages.get(message_id) if message_id else None
    if message is None or message.organization_id != organization_id:
        return None
    author = sb.world.members.get(message.created_by) if message.created_by else None
    return {
        "id": message.id,
        "author": author.full_name if author else "the organization",
        "state": planner.STATES.get(message.state, message.state).lower(),
        "due": message.send_time.replace("T", " ").removesuffix("Z"),
    }


def _organization(sb: Sandbox, wanted: str | None) -> str:
    """The organization asked for (the first seeded one by default); 400 if unknown."""
    if not wanted:
        return next(iter(sb.world.organizations))
    if wanted not in sb.world.organizations:
        raise ApiError(400, 4000, f"Unknown organization {wanted[:40]!r}")
    return wanted


def _same_origin(req: Request) -> bool:
    """A browser's cross-site form post carries another Origin: refuse it (no CSRF)."""
    origin = req.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == req.headers.get("host", "")
