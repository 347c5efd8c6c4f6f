"""Who is looking: the one object every route asks before it reads or writes.

Routes never decide access themselves. They take `viewer: Viewer = Depends(current_viewer)`,
call `viewer.check_item(case, num)` before returning anything about an item (a private item
answers 404, as if it did not exist, so numbers cannot be probed), pass `viewer.scope()` to
searches, and call `viewer.require("editor")` before any write. The single-user embedded
default (no accounts) is `LOCAL`: everything, as the person at the terminal.

`AccessGate`, the ASGI middleware, sets `request.state.viewer` (from a session cookie or an
`Authorization: Bearer` API token when the server has accounts) and `request.state.csrf`, and
refuses any unsafe request (POST, PUT, PATCH, DELETE) that does not carry the CSRF token, in
local mode too: a web page the user visits must not be able to write to their reading room.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from strongroom.accounts.collections import (
    granted_collections,
    input_collections,
    public_collections,
)
from strongroom.accounts.sessions import (
    csrf_token,
    csrf_valid,
    server_key,
    session_user,
    token_user,
)
from strongroom.accounts.users import User
from strongroom.case import Case
from strongroom.catalog.audit import record
from strongroom.errors import LoginRequired, NotAllowed, NotFound, StrongroomError

ROLES = ("anonymous", "reader", "editor", "admin")
SESSION_COOKIE = "strongroom_session"
CSRF_COOKIE = "strongroom_csrf"
CSRF_FIELD = "csrf"  # the hidden form field
CSRF_HEADER = "x-csrf-token"  # for scripts and fetch() that send JSON
# Methods that write; anything else (GET, HEAD, OPTIONS, TRACE...) only reads or is refused by
# routing with 405.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_FORM_BYTES = 10_000_000


@dataclass(frozen=True)
class Viewer:
    name: str  # the user name recorded in the audit log; "anonymous" for the public
    role: str  # one of ROLES
    # The collections this viewer may read; None means every item in the case.
    collections: frozenset[str] | None = None
    # Server mode records this viewer's reads (searches, views, downloads) in the audit log.
    audited: bool = False

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def require(self, role: str) -> None:
        if self.has_role(role):
            return
        if self.role == "anonymous":
            raise LoginRequired("log in to do this", hint="/login")
        raise NotAllowed(f"this needs the {role} role; {self.name} is a {self.role}")

    def can_read(self, case: Case, num: int) -> bool:
        if self.collections is None:
            return True
        return bool(case.item_collections(num) & self.collections)

    def readable(self, case: Case, nums: list[int]) -> set[int]:
        """Those of `nums` this viewer may read (one query for a whole list)."""
        return case.readable(nums, self.collections)

    def visible_locations(
        self, case: Case, locations: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """An item's locations without those in inputs or containers out of scope."""
        if self.collections is None:
            return locations
        scope = self.collections
        parents = self.readable(case, [loc["parent"] for loc in locations if loc.get("parent")])
        paths = input_collections(case.catalog, [loc["path"] for loc in locations if loc["path"]])
        return [
            loc
            for loc in locations
            if (loc.get("parent") and loc["parent"] in parents)
            or (loc.get("path") and paths.get(loc["path"], frozenset()) & scope)
        ]

    def check_item(self, case: Case, num: int) -> None:
        if not self.can_read(case, num):
            raise NotFound(f"no item {num} in this case")

    def scope(self) -> frozenset[str] | None:
        """Restrict searches to these collections (None: no restriction)."""
        return self.collections

    def audit(
        self, case: Case, action: str, target: str | None, detail: dict[str, Any] | None = None
    ) -> None:
        """Record a read (search, view, download, export) when the server keeps accounts."""
        if self.audited:
            record(case.catalog, self.name, action, target, detail)


LOCAL = Viewer(name="local", role="admin")
# Fail closed: what a request sees if it somehow bypassed the gate of a server with accounts.
NOBODY = Viewer(name="anonymous", role="anonymous", collections=frozenset(), audited=True)


@dataclass(frozen=True)
class AccessConfig:
    accounts: bool = False  # server mode: logins, collections, grants
    secure_cookies: bool = False  # also set when a request arrives over https


def current_viewer(request: Request) -> Viewer:
    viewer = getattr(request.state, "viewer", None)
    if isinstance(viewer, Viewer):
        return viewer
    config = getattr(request.app.state, "access", None)
    return NOBODY if isinstance(config, AccessConfig) and config.accounts else LOCAL


# `viewer: CurrentViewer` in a route's signature (the same as `Depends(current_viewer)`).
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def viewer_for(case: Case, user: User | None) -> Viewer:
    """The viewer of a logged-in user (or of the public, for None) on a server with accounts."""
    public = public_collections(case.catalog)
    if user is None:
        return Viewer("anonymous", "anonymous", public, audited=True)
    if user.role == "admin":
        return Viewer(user.name, user.role, None, audited=True)
    return Viewer(
        user.name, user.role, public | granted_collections(case.catalog, user.name), audited=True
    )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def cookie_flags(request: Request) -> dict[str, Any]:
    """Flags of every cookie strongroom sets: HttpOnly, SameSite=Strict, Secure over https."""
    config = getattr(request.app.state, "access", AccessConfig())
    secure = config.secure_cookies or request.url.scheme == "https"
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AccessGate:
    """ASGI middleware: identifies the viewer, hands out and checks CSRF tokens."""

    def __init__(self, app: ASGIApp, case: Case, config: AccessConfig) -> None:
        self.app = app
        self.case = case
        self.config = config
        self._key: bytes | None = None

    def key(self) -> bytes:
        if self._key is None:
            self._key = server_key(self.case.catalog)
        return self._key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        session = request.cookies.get(SESSION_COOKIE, "")
        bearer = _bearer(request.headers.get("authorization", ""))
        try:
            viewer = await run_in_threadpool(self._identify, session, bearer)
        except StrongroomError as error:
            await _refuse(scope, receive, send, error)
            return
        nonce = request.cookies.get(CSRF_COOKIE, "")
        fresh_nonce = "" if nonce else new_nonce()
        key = await run_in_threadpool(self.key)
        state = scope.setdefault("state", {})
        state["viewer"] = viewer
        state["session"] = session
        state["csrf"] = csrf_token(key, nonce or fresh_nonce, session)
        by_token = bearer is not None and self.config.accounts  # a checked API token
        if scope["method"] in UNSAFE_METHODS and not by_token and _has_route(scope):
            # API tokens travel in a header no other site can make a browser send; cookies do
            # travel, so a cookie-authenticated (or local) write must prove it came from a page.
            try:
                body, receive = await _buffer(receive)
            except BodyTooLarge as error:
                await _refuse(scope, receive, send, error)
                return
            given = request.headers.get(CSRF_HEADER) or _form_token(request, body)
            if not csrf_valid(key, nonce, session, given):
                await _refuse(
                    scope,
                    receive,
                    send,
                    NotAllowed(
                        "missing or wrong CSRF token",
                        hint="submit the form from the reading room's own page",
                    ),
                )
                return
        if fresh_nonce:
            send = _with_cookie(send, request, CSRF_COOKIE, fresh_nonce, self.config)
        await self.app(scope, receive, send)

    def _identify(self, session: str, bearer: str | None) -> Viewer:
        if not self.config.accounts:
            return LOCAL
        if bearer is not None:
            user = token_user(self.case.catalog, bearer)
            if user is None:
                raise LoginRequired("unknown API token", hint="create one: strongroom users token")
            return viewer_for(self.case, user)
        user = session_user(self.case.catalog, session) if session else None
        return viewer_for(self.case, user)


def _has_route(scope: Scope) -> bool:
    """Whether a route takes this method at this path (else routing answers 404 or 405)."""
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", []):
        if getattr(route, "methods", None) and route.matches(scope)[0] == Match.FULL:
            return True
    return False


def _bearer(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def _form_token(request: Request, body: bytes) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(CSRF_FIELD, [])
        return values[0] if values else ""
    if kind == "multipart/form-data":
        return _multipart_field(request.headers.get("content-type", ""), body, CSRF_FIELD)
    return ""


def _multipart_field(content_type: str, body: bytes, name: str) -> str:
    """One small text field of a multipart body (the CSRF token), without parsing files."""
    boundary = ""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return ""
    marker = f'name="{name}"'.encode()
    for chunk in body.split(b"--" + boundary.encode()):
        head, _, content = chunk.partition(b"\r\n\r\n")
        if marker in head and b"filename=" not in head:
            return content.removesuffix(b"\r\n").decode("latin-1")
    return ""


class BodyTooLarge(StrongroomError):
    http_status = 413


async def _buffer(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole body (bounded), and a receive that replays it to the app."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise BodyTooLarge(f"a request body may have at most {MAX_FORM_BYTES} bytes")
        chunks.append(chunk)
        more = bool(message.get("more_body", False))
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _refuse(scope: Scope, receive: Receive, send: Send, error: StrongroomError) -> None:
    payload = json.dumps(error.to_json()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _with_cookie(send: Send, request: Request, name: str, value: str, config: AccessConfig) -> Send:
    secure = config.secure_cookies or request.url.scheme == "https"
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    cookie[name]["path"] = "/"
    cookie[name]["httponly"] = True
    cookie[name]["samesite"] = "Strict"
    if secure:
        cookie[name]["secure"] = True
    header = cookie.output(header="").strip().encode("latin-1")

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])
            message["headers"] = [*message["headers"], (b"set-cookie", header)]
        await send(message)

    return sending
