"""The operators' console (运维控制台) at `/console`: one server-rendered page and a little
vanilla JavaScript over the JSON API; no build step.

Log in with an operator API key. The key is kept in a session cookie (`gw_console`:
HttpOnly, SameSite=Strict, Path=/console, Secure behind HTTPS, no expiry: it goes when the
browser closes), never in JavaScript. The page's script calls `/console/api/<API path>`;
the console forwards each call into the gateway's own API stack with the key as a Bearer
token, so every read and every action (requeue, list-entry transitions) goes through the
same operation, authorisation and audit log entry as any API client's.

Why a cookie rather than a Bearer token held by the script: an HttpOnly cookie cannot be
read by script, so a script injected into the page cannot carry the key away (a token in
sessionStorage could be); SameSite=Strict keeps other sites' pages from sending it, and
`/console/api` also demands an `X-Console: 1` header, which a cross-site form cannot send.
The page sets a strict Content-Security-Policy (scripts and styles from itself only) and
renders data with `textContent`, never as HTML.

`install(services)` adds the console as an app hook (`services.extras["app_hooks"]`).
"""

from __future__ import annotations

from typing import Any

from gateway.console.web import ConsoleMiddleware


def app_hook(app: Any, services: Any) -> None:
    from connexion.middleware import MiddlewarePosition

    app.add_middleware(ConsoleMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, services=services)


def install(services: Any) -> None:
    hooks = services.extras.setdefault("app_hooks", [])
    if app_hook not in hooks:
        hooks.append(app_hook)
