"""The console's HTTP side: pages, login/logout, static files, and `/console/api/…`, which
forwards into the gateway's API stack (the ASGI app inside this middleware) with the
session's key as a Bearer token."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from gateway.errors import Forbidden, GatewayError, NotFound, Unauthenticated

HERE = Path(__file__).parent
COOKIE = "gw_console"
PREFIX = "/console"
API_PREFIX = "/console/api/"
_KEY = re.compile(r"^gw_[0-9a-f]{12}_[A-Za-z0-9_\-]{40,}$")
STATIC = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _template(name: str) -> Template:
    return Template((HERE / "templates" / name).read_text(encoding="utf-8"))


class ConsoleMiddleware:
    """Answers `/console…` itself; everything else goes on to the API."""

    def __init__(self, app: Any, services: Any) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        if path.startswith(API_PREFIX):
            await self._forward(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self._page(request, path)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        await response(scope, receive, send)

    # --- pages -----------------------------------------------------------------------------

    async def _page(self, request: Request, path: str) -> Response:
        method = request.method
        if path in (PREFIX, PREFIX + "/") and method in ("GET", "HEAD"):
            if not request.cookies.get(COOKIE):
                return self._login_page()
            return HTMLResponse(_template("page.html").substitute())
        if path == PREFIX + "/login" and method == "POST":
            return await self._login(request)
        if path == PREFIX + "/logout" and method == "POST":
            response = RedirectResponse(PREFIX, status_code=303)
            response.delete_cookie(COOKIE, path=PREFIX)
            return response
        if path.startswith(PREFIX + "/charts/") and path.endswith(".svg") and method in ("GET", "HEAD"):
            return await self._chart(request, path.removeprefix(PREFIX + "/charts/").removesuffix(".svg"))
        if path.startswith(PREFIX + "/static/") and method in ("GET", "HEAD"):
            name = path.removeprefix(PREFIX + "/static/")
            if name in STATIC:
                return FileResponse(HERE / "static" / name, media_type=STATIC[name])
        return _problem(NotFound(f"no console page {path}"))

    def _login_page(self, error: str | None = None, status: int = 200) -> HTMLResponse:
        message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        return HTMLResponse(_template("login.html").substitute(error=message), status_code=status)

    async def _login(self, request: Request) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        key = (parse_qs(body).get("api_key") or [""])[0].strip()
        if not _KEY.match(key):
            return self._login_page("That is not a gateway API key (gw_<key id>_<secret>).", 401)
        status, payload = await self._call("GET", "/v1/access/whoami", key, request.scope)
        if status != 200:
            reason = (payload or {}).get("detail") or "the key was refused"
            return self._login_page(f"Refused: {reason}", 401)
        if payload.get("sector") != "operator":
            return self._login_page(f"Only operator keys may use the console (this key's sector: {payload.get('sector')}).",
                                    403)
        response = RedirectResponse(PREFIX, status_code=303)
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
        response.set_cookie(COOKIE, key, path=PREFIX, httponly=True, samesite="strict", secure=secure)
        return response

    async def _chart(self, request: Request, name: str) -> Response:
        """A picture (`gateway.console.charts`), for an operator's session only."""
        from starlette.concurrency import run_in_threadpool

        from gateway.console import charts

        if name not in charts.NAMES:
            return _problem(NotFound(f"no console chart {name}"))
        key = request.cookies.get(COOKIE)
        if not key:
            return _problem(Unauthenticated("not logged in: log in at /console",
                                            headers={"WWW-Authenticate": 'Cookie realm="console"'}))
        status, payload = await self._call("GET", "/v1/access/whoami", key, request.scope)
        if status != 200 or (payload or {}).get("sector") != "operator":
            return _problem(Forbidden("the console's charts are for operators"))
        svg = await run_in_threadpool(chart_svg, self.services, name)
        return Response(svg, media_type="image/svg+xml; charset=utf-8")

    # --- the API, with the session's key -----------------------------------------------------

    def _api_scope(self, scope: dict[str, Any], method: str, path: str, key: str, query: bytes) -> dict[str, Any]:
        headers = [(k, v) for k, v in scope.get("headers", [])
                   if k.lower() not in (b"cookie", b"authorization", b"x-api-key", b"x-client-cert", b"x-console")]
        headers.append((b"authorization", f"Bearer {key}".encode()))
        inner = {k: v for k, v in scope.items() if k not in ("extensions", "path_params", "state", "route_root_path")}
        inner.update({"method": method, "path": path, "raw_path": quote(path, safe="/:@!$&'()*+,;=-._~").encode(), "query_string": query,
                      "headers": headers, "extensions": {}})
        return inner

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        key = request.cookies.get(COOKIE)
        if not key:
            await _problem(Unauthenticated("not logged in: log in at /console",
                                           headers={"WWW-Authenticate": 'Cookie realm="console"'}))(scope, receive, send)
            return
        if request.headers.get("x-console") != "1":
            await _problem(Forbidden("console API calls carry X-Console: 1"))(scope, receive, send)
            return
        path = "/" + scope["path"].removeprefix(API_PREFIX)
        await self.app(self._api_scope(scope, scope["method"], path, key, scope.get("query_string", b"")),
                       receive, send)

    async def _call(self, method: str, path: str, key: str, scope: dict[str, Any]) -> tuple[int, Any]:
        """Call the API in-process; (status, decoded JSON body or None)."""
        inner = self._api_scope(scope, method, path, key, b"")
        sent = False
        captured: dict[str, Any] = {"status": 500, "body": b""}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        await self.app(inner, receive, send)
        try:
            payload = json.loads(captured["body"] or b"null")
        except ValueError:
            payload = None
        return captured["status"], payload


def _problem(error: GatewayError) -> Response:
    return JSONResponse(error.body(), status_code=error.status, media_type="application/problem+json",
                        headers=error.headers)


def chart_svg(services: Any, name: str) -> str:
    from gateway.console import charts, repository

    now = services.clock.now()
    with services.db.read() as conn:
        if name in ("deliveries", "backlog"):
            data = repository.delivery_hours(conn, now)
        elif name == "on-time":
            data = repository.on_time_by_month(conn, now)
        else:
            data = repository.feed_ages(conn, now)
    return charts.render(name, data)
