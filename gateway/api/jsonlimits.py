"""ASGI middleware: a JSON body nested too deep or with too long a number is refused with 400.

Python's json module recurses once per nesting level (100,000 ``[`` end in RecursionError)
and refuses integers above 4,300 digits with a ValueError (`sys.set_int_max_str_digits`);
both surfaced as 500 from the framework's body parsing. This middleware looks at the body
before anything parses it, in a few passes of compiled regular expressions (no Python loop
per character), and answers problem JSON:

- ``json-too-deep`` when arrays/objects nest deeper than `json_max_depth` (32);
- ``json-number-too-long`` when a number outside strings has a run of more than
  `json_max_number_digits` (40) digits.

The strings are blanked first (an unterminated one runs to the end, which keeps the scan
linear); then the brackets left are peeled, innermost pair by innermost pair, at most
`json_max_depth` times. A body whose brackets do not pair up within that many passes is
refused as too deep: it is not JSON either way. Bodies of other media types pass untouched.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.api.problems import PROBLEM, problem_bytes
from gateway.errors import GatewayError

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")
_PAIR = re.compile(rb"\[\]|\{\}")


class JsonTooDeep(GatewayError):
    status, slug, title = 400, "json-too-deep", "JSON nested too deep"


class JsonNumberTooLong(GatewayError):
    status, slug, title = 400, "json-number-too-long", "JSON number too long"


def check(body: bytes, max_depth: int, max_digits: int) -> GatewayError | None:
    """The refusal of a body beyond the limits, or None."""
    if b"[" not in body and b"{" not in body and len(body) <= max_digits:
        return None
    bare = _STRING.sub(b'""', body) if b'"' in body else body
    if re.search(rb"\d{%d}" % (max_digits + 1), bare):
        return JsonNumberTooLong(f"a number has more than {max_digits} digits", limit=max_digits,
                                 setting="GATEWAY_JSON_MAX_NUMBER_DIGITS")
    brackets = _NOT_BRACKET.sub(b"", bare)
    for _ in range(max_depth):
        if not brackets:
            return None
        brackets, peeled = _PAIR.subn(b"", brackets)
        if not peeled:
            break
    if not brackets:
        return None
    return JsonTooDeep(f"arrays and objects nest deeper than {max_depth} levels (or do not pair up)",
                       limit=max_depth, setting="GATEWAY_JSON_MAX_DEPTH")


def _is_json(scope: dict[str, Any]) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


class JsonLimitMiddleware:
    def __init__(self, app: Any, max_depth: int, max_digits: int) -> None:
        self.app = app
        self.max_depth = max_depth
        self.max_digits = max_digits

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD") or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:  # the body limit (outside this middleware) bounds what is read here
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refusal = check(body, self.max_depth, self.max_digits)
        if refusal is not None:
            payload = problem_bytes(refusal)
            await send({"type": "http.response.start", "status": refusal.status,
                        "headers": [(b"content-type", PROBLEM.encode()),
                                    (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
