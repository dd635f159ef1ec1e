"""ASGI middleware: request body size limit (413 problem JSON before the body is parsed)."""

from __future__ import annotations

from gateway.api.problems import PROBLEM, problem_bytes
from gateway.errors import BodyTooLarge


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int) -> None:  # noqa: ANN001
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
                # the server holds the body to its declared length, so nothing more to count
                await self.app(scope, receive, send)
                return
        # no length declared (chunked): read up to the limit, then replay what was read
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send) -> None:  # noqa: ANN001
        body = problem_bytes(BodyTooLarge(f"the limit is {self.max_bytes} bytes"))
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
