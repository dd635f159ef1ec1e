"""Serving a simulator: the fault layer, the admin routes, uvicorn on loopback, receipt callbacks.

`FaultMiddleware` wraps any simulator app and, per request, applies what `FaultState.decide`
says before the app sees it: latency, 503 (down) or 429 (rate limit) with Retry-After, 500,
a hang, or a connection closed mid-answer. `/_sim/*` (stats, faults, certificate) is exempt.
A simulator's error bodies are its own (`render`: JSON for REST, a soap:Fault for SOAP).

`ServerThread` runs an app on its own event loop in a daemon thread (tests, `gateway demo`);
`serve_forever` runs one in the foreground (`gateway simulate`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from adapters._sim.faults import FaultState

log = logging.getLogger("gateway.simulator")
Render = Callable[[int, str, str, int | None], tuple[str, bytes]]  # status, code, message, retry_after


def render_json(status: int, code: str, message: str, retry_after: int | None) -> tuple[str, bytes]:
    body = {"code": code, "message": message, **({"retry_after": retry_after} if retry_after else {})}
    return "application/json", json.dumps(body, ensure_ascii=False).encode()


async def read_body(receive) -> bytes:  # noqa: ANN001
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return bytes(body)


async def respond(send, status: int, body: bytes, content_type: str | None = None,  # noqa: ANN001
                  headers: dict[str, str] | None = None) -> None:
    out = [(k.lower().encode(), str(v).encode()) for k, v in (headers or {}).items()]
    if content_type:
        out.append((b"content-type", content_type.encode()))
    out.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    def __init__(self, app, faults: FaultState, render: Render = render_json, *,  # noqa: ANN001
                 admin: Callable[[str, str, bytes], tuple[int, str, bytes]] | None = None) -> None:
        self.app = app
        self.faults = faults
        self.render = render
        self.admin = admin

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path.startswith("/_sim/"):
            body = await read_body(receive)
            status, ctype, out = self._admin(scope["method"], path, body)
            return await respond(send, status, out, ctype)
        faults = self.faults.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        action = self.faults.decide()
        if action is None:
            return await self.app(scope, receive, send)
        await read_body(receive)
        if action.kind in ("down", "throttle", "error"):
            status, code = {"down": (503, "E_UNAVAILABLE"), "throttle": (429, "E_THROTTLED"),
                            "error": (500, "E_INTERNAL")}[action.kind]
            ctype, body = self.render(status, code, f"injected fault: {action.kind}", action.retry_after)
            headers = {"Retry-After": str(action.retry_after)} if action.retry_after else {}
            return await respond(send, status, body, ctype, headers)
        if action.kind == "timeout":
            await asyncio.sleep(faults.hang_seconds)
            return await respond(send, 504, b"", "text/plain")
        # reset: promise a body, send a byte of it, and drop the connection
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/xml"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b"<", "more_body": True})
        return None

    def _admin(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path == "/_sim/faults" and method == "POST":
            try:
                faults = self.faults.update(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return 400, "application/json", json.dumps({"error": str(exc)}).encode()
            return 200, "application/json", json.dumps(faults.describe(), default=str).encode()
        if path == "/_sim/faults":
            return 200, "application/json", json.dumps(self.faults.faults.describe(), default=str).encode()
        if self.admin is not None:
            return self.admin(method, path, body)
        return 404, "text/plain", b"not found"


class _QuietReset(logging.Filter):
    """uvicorn logs an injected reset as an application error; it is the point of the exercise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietReset())


def _config(app, host: str, port: int):  # noqa: ANN001, ANN202
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off",
                          timeout_graceful_shutdown=1)


class ServerThread:
    """An app served by uvicorn on its own loop in a daemon thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0) -> None:  # noqa: ANN001
        import uvicorn

        self.host = host
        self.server = uvicorn.Server(_config(app, host, port))
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None
        self._thread = threading.Thread(target=self._run, name=f"simulator:{port}", daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            task = asyncio.create_task(self.server.serve())
            while not self.server.started and not task.done():
                await asyncio.sleep(0.01)
            if self.server.started:
                self.port = self.server.servers[0].sockets[0].getsockname()[1]
            self._ready.set()
            await task

        try:
            self.loop.run_until_complete(main())
        finally:
            self._ready.set()
            self.loop.close()

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        self._ready.wait(timeout)
        if self.port is None:
            raise RuntimeError(f"the simulator did not start on {self.host}")
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)


def serve_forever(app, host: str, port: int, announce: Callable[[str], None]) -> None:  # noqa: ANN001
    import uvicorn

    server = uvicorn.Server(_config(app, host, port))

    async def main() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            bound = server.servers[0].sockets[0].getsockname()[1]
            announce(f"http://{host}:{bound}")
        await task

    asyncio.run(main())


async def post_receipt_later(url: str, receipt: bytes, delay: float, on_done: Callable[[int | None], None],
                             token: str | None = None) -> None:
    """POST a receipt to the gateway's `/v1/receipts` after `delay` (asynchronous receipts);
    `token` is the gateway API key with scope receipts:write, sent as a bearer token."""
    await asyncio.sleep(delay)
    headers = {"Content-Type": "application/xml"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    status = None
    for attempt in range(5):
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(url, content=receipt, headers=headers)
            status = response.status_code
            if status < 500:
                break
        except httpx.HTTPError as exc:
            log.warning("posting receipt to %s failed (%s); attempt %d", url, exc, attempt + 1)
        await asyncio.sleep(min(30, 2**attempt))
    on_done(status)


def stats_admin(receiver, certificate: Path) -> Callable[[str, str, bytes], tuple[int, str, bytes]]:  # noqa: ANN001
    """`GET /_sim/stats` (counters) and `GET /_sim/certificate` (the receipt certificate to pin)."""

    def admin(method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path == "/_sim/stats":
            data: dict[str, Any] = {**receiver.stats, "applied_total": receiver.store.count(),
                                    "faults_injected": receiver.faults.injected}
            return 200, "application/json", json.dumps(data).encode()
        if path == "/_sim/certificate":
            return 200, "application/x-pem-file", certificate.read_bytes()
        return 404, "text/plain", b"not found"

    return admin
