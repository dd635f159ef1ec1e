"""The recording loopback destination (tests, the bench, the default `local` destination).

By default it behaves like a well-mannered platform: it takes a signed bulletin, applies it
ONCE per `X-Delivery-Id` (a re-sent delivery gets the same receipt back and changes nothing),
and answers with a signed receipt echoing the bulletin's reference digests. With
`dedupe: false` (the kill -9 proof) it does not de-duplicate: every arrival is applied and
answered with a receipt of its own (receipt id `r-<delivery id>-<arrival number>`), so
whether the gateway applied a delivery once is for the gateway to prove, not for the
destination to hide. Every request is appended to a JSON-lines file (flushed per line), so a
killed gateway worker cannot touch the record of what arrived:

    {"t": 1717.2, "t_end": 1717.21, "delivery_id": "…", "bulletin_id": "…", "attempt": 1,
     "digest": "<sha256 of the body>", "items": ["i-1"], "receipt_id": "r-…", "applied": true,
     "overlap": false, "status": 200}

`t`/`t_end` bracket the handling of the request (two arrivals of one delivery whose
intervals intersect were in flight at the same time: what the lease must prevent);
`overlap` says the same from the recorder's own bookkeeping. `applied` is true when this
arrival changed the destination's state (with de-duplication: exactly once per delivery id).
Operators of a test switch its behaviour at `POST /_admin/mode` (down with a status and
Retry-After, per-request delay, items to reject, asynchronous receipts, de-duplication).

Run as a server:  python -m adapters.local --port 0 --record-file F --keys-dir D
As an adapter:    `adapter: adapters.local:factory` with `options.url` (HTTP to such a server)
                  or without (the same recorder in-process, its receipts signed with the key in
                  `options.keys_dir`, by default the gateway's keyring).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway import xmlsafe
from gateway.delivery.port import (
    ATTEMPT_HEADER,
    BULLETIN_ID_HEADER,
    DELIVERY_ID_HEADER,
    OutgoingDelivery,
    PushResult,
)
from gateway.signing.dsig import reference_digests
from gateway.signing.keys import SigningKey

BULLETIN_NS = "urn:safety-credit:bulletin:1"


# --- the recorder ----------------------------------------------------------------------


@dataclass
class Mode:
    status: int | None = None  # answer every push with this status (e.g. 503: down)
    retry_after: int | None = None
    delay: float = 0.0  # seconds to hold each push (widens overlap windows in tests)
    reject_items: set[str] = field(default_factory=set)  # item ids to reject (code "E_INVALID")
    sync_receipts: bool = True  # False: answer 202 and keep the receipt for query_receipt
    bad_signature: bool = False  # sign receipts with a key the gateway does not trust
    dedupe: bool = True  # False: apply and answer every arrival afresh (nothing hides a double send)


class Recorder:
    """What a destination does with a push; shared by the HTTP server and the in-process adapter."""

    def __init__(self, record_file: Path | str, key: SigningKey, receiver: str = "local",
                 untrusted_key: SigningKey | None = None) -> None:
        self.path = Path(record_file)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self.key = key
        self.untrusted_key = untrusted_key
        self.receiver = receiver
        self.mode = Mode()
        self.receipts: dict[str, bytes] = {}
        self.inflight: dict[str, int] = {}
        self.arrivals: dict[str, int] = {}  # delivery id -> arrivals handled
        self.stats = {"requests": 0, "applied": 0, "duplicates": 0, "refused": 0, "overlaps": 0}

    def _write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()

    async def push(self, delivery_id: str, bulletin_id: str | None, attempt: int, body: bytes) -> tuple[int, dict, bytes]:
        now = time.time()
        self.stats["requests"] += 1
        mode = self.mode
        if mode.status is not None:
            self.stats["refused"] += 1
            self._write({"t": now, "t_end": now, "delivery_id": delivery_id, "bulletin_id": bulletin_id,
                         "attempt": attempt, "items": [], "applied": False, "overlap": False, "status": mode.status})
            headers = {"Retry-After": str(mode.retry_after)} if mode.retry_after is not None else {}
            return mode.status, headers, b"refused by test mode"
        if not delivery_id:
            return 400, {}, b"X-Delivery-Id is required"
        try:
            root = xmlsafe.parse(body)
            digests = reference_digests(root)
        except Exception as exc:  # noqa: BLE001 - any unreadable body is the sender's fault
            return 400, {}, f"unreadable bulletin: {exc}".encode()
        ns = {"b": BULLETIN_NS}
        bulletin_id = root.findtext("b:Header/b:BulletinId", namespaces=ns) or bulletin_id or ""
        items = [el.get("itemId") for el in root.iterfind("b:Items/b:Item", ns)]
        overlap = delivery_id in self.inflight
        if overlap:
            self.stats["overlaps"] += 1
        self.inflight[delivery_id] = self.inflight.get(delivery_id, 0) + 1
        arrival = self.arrivals[delivery_id] = self.arrivals.get(delivery_id, 0) + 1
        try:
            if mode.delay:
                await asyncio.sleep(mode.delay)
            receipt = self.receipts.get(delivery_id) if mode.dedupe else None
            applied = receipt is None
            receipt_id = f"r-{delivery_id}" if mode.dedupe else f"r-{delivery_id}-{arrival}"
            if applied:
                receipt = self._receipt(digests, bulletin_id, delivery_id, items, mode, receipt_id)
                self.receipts[delivery_id] = receipt
                self.stats["applied"] += 1
            else:
                self.stats["duplicates"] += 1
            self._write({"t": now, "t_end": time.time(), "delivery_id": delivery_id, "bulletin_id": bulletin_id,
                         "attempt": attempt, "digest": hashlib.sha256(body).hexdigest(), "items": items,
                         "receipt_id": receipt_id, "applied": applied, "overlap": overlap, "status": 200})
        finally:
            left = self.inflight.pop(delivery_id) - 1
            if left:
                self.inflight[delivery_id] = left
        if not mode.sync_receipts:
            return 202, {}, b""
        return 200, {"Content-Type": "application/xml"}, receipt

    def _receipt(self, digests, bulletin_id: str, delivery_id: str, items: list[str], mode: Mode,  # noqa: ANN001
                 receipt_id: str) -> bytes:
        from gateway.signing.receipt import ItemOutcome, build_receipt

        outcomes = [
            ItemOutcome(i, "rejected", "E_INVALID", "rejected by the test destination")
            if i in mode.reject_items else ItemOutcome(i, "accepted")
            for i in items
        ]
        key = self.untrusted_key if (mode.bad_signature and self.untrusted_key) else self.key
        return build_receipt(digests, outcomes, key=key, delivery_id=delivery_id, receiver=self.receiver,
                             bulletin_id=bulletin_id, receipt_id=receipt_id)

    def receipt_for(self, delivery_id: str) -> bytes | None:
        return self.receipts.get(delivery_id)

    def set_mode(self, **changes: Any) -> Mode:
        current = self.mode.__dict__ | changes
        current["reject_items"] = set(current.get("reject_items") or ())
        self.mode = Mode(**current)
        return self.mode


# --- the HTTP server (raw ASGI: the sink must not be the bottleneck) --------------------


class RecordingApp:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        status, out_headers, out = 404, {}, b"not found"
        if method == "POST" and path in ("/", "/deliveries"):
            status, out_headers, out = await self.recorder.push(
                headers.get(DELIVERY_ID_HEADER.lower(), ""), headers.get(BULLETIN_ID_HEADER.lower()),
                int(headers.get(ATTEMPT_HEADER.lower(), "0") or 0), bytes(body))
        elif method == "GET" and path.startswith("/receipts/"):
            receipt = self.recorder.receipt_for(path.removeprefix("/receipts/"))
            if receipt is not None:
                status, out_headers, out = 200, {"Content-Type": "application/xml"}, receipt
        elif method == "POST" and path == "/_admin/mode":
            mode = self.recorder.set_mode(**json.loads(bytes(body) or b"{}"))
            status, out = 200, json.dumps({**mode.__dict__, "reject_items": sorted(mode.reject_items)}).encode()
        elif method == "GET" and path == "/_admin/stats":
            status, out = 200, json.dumps(self.recorder.stats).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(k.lower().encode(), v.encode()) for k, v in out_headers.items()]})
        await send({"type": "http.response.body", "body": out})


def load_records(path: Path | str) -> list[dict[str, Any]]:
    """Read a recording destination's JSON-lines file (a torn last line is ignored)."""
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _load_key(keys_dir: Path, key_file: Path | None = None) -> SigningKey:
    from gateway.signing.keys import ensure_dev_keyring

    return ensure_dev_keyring(keys_dir).active


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description="the recording loopback destination")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record-file", required=True)
    parser.add_argument("--keys-dir", required=True, help="its receipts are signed by the dev keyring here")
    parser.add_argument("--untrusted-keys-dir", help="a second keyring for bad-signature tests")
    parser.add_argument("--receiver", default="local")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    args = parser.parse_args(argv)
    untrusted = _load_key(Path(args.untrusted_keys_dir)) if args.untrusted_keys_dir else None
    recorder = Recorder(args.record_file, _load_key(Path(args.keys_dir)), args.receiver, untrusted)
    config = uvicorn.Config(RecordingApp(recorder), host=args.host, port=args.port, log_level="warning",
                            access_log=False, lifespan="off", backlog=4096)
    server = uvicorn.Server(config)

    async def serve() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            if args.port_file:
                tmp = Path(args.port_file + ".tmp")
                tmp.write_text(str(port))
                os.replace(tmp, args.port_file)
            print(f"recording destination on http://{args.host}:{port}", flush=True)
        await task

    asyncio.run(serve())
    recorder.close()
    return 0


# --- adapters ----------------------------------------------------------------------------


def make_http_client(transport: str = "aiohttp", *, timeout: float = 10.0, max_connections: int = 100):  # noqa: ANN201
    """An httpx.AsyncClient on the chosen transport (docs/notes.md: aiohttp is ~2x faster here).

    Tests that mock with respx use `respx.mock(using="httpx")`, which intercepts at the client
    and so works for either transport.
    """
    import httpx

    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    timeout_ = httpx.Timeout(timeout)
    if transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        return httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=timeout_)
    if transport in ("httpx", "aiohttp-native"):  # native: queries still go through httpx
        return httpx.AsyncClient(limits=limits, timeout=timeout_)
    raise ValueError(f"unknown transport {transport!r} (aiohttp | aiohttp-native | httpx)")


class HttpPushDestination:
    """POST the signed bulletin to `{url}/deliveries`; GET `{url}/receipts/{delivery_id}`."""

    def __init__(self, name: str, url: str, *, timeout: float = 10.0, transport: str = "aiohttp",
                 max_connections: int = 100, client=None) -> None:  # noqa: ANN001
        self.name = name
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.transport = transport
        self.max_connections = max_connections
        self._client = client
        self._session = None  # aiohttp-native

    @property
    def client(self):  # noqa: ANN201
        if self._client is None:  # created inside the running loop (aiohttp sessions are loop-bound)
            self._client = make_http_client(self.transport, timeout=self.timeout, max_connections=self.max_connections)
        return self._client

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        if self.transport == "aiohttp-native":
            return await self._push_native(delivery)
        import httpx

        try:
            response = await self.client.post(f"{self.url}/deliveries", content=delivery.signed,
                                               headers=delivery.headers())
        except httpx.TimeoutException as exc:
            return PushResult.timed_out(exc)
        except (httpx.TransportError, OSError) as exc:
            return PushResult.network_error(exc)
        return PushResult.from_http(response.status_code, response.headers, response.content)

    async def _push_native(self, delivery: OutgoingDelivery) -> PushResult:
        """aiohttp without the httpx layer: half the client CPU per request (docs/notes.md);
        not interceptable by respx, so only for destinations whose tests use a real server."""
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout))
        try:
            async with self._session.post(f"{self.url}/deliveries", data=delivery.signed,
                                          headers=delivery.headers()) as response:
                body = await response.read()
                return PushResult.from_http(response.status, response.headers, body)
        except TimeoutError as exc:
            return PushResult.timed_out(exc)
        except (aiohttp.ClientError, OSError) as exc:
            return PushResult.network_error(exc)

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        import httpx

        try:
            response = await self.client.get(f"{self.url}/receipts/{delivery_id}")
        except (httpx.TransportError, OSError):
            return None
        return response.content if response.status_code == 200 and response.content else None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._session is not None:
            await self._session.close()
            self._session = None


class InProcessDestination:
    """The recorder without HTTP (the default `local` destination of a fresh install)."""

    def __init__(self, name: str, recorder: Recorder) -> None:
        self.name = name
        self.recorder = recorder

    async def push(self, delivery: OutgoingDelivery) -> PushResult:
        status, headers, body = await self.recorder.push(delivery.delivery_id, delivery.bulletin_id,
                                                         delivery.attempt, delivery.signed)
        return PushResult.from_http(status, headers, body)

    async def query_receipt(self, delivery_id: str, bulletin_id: str) -> bytes | None:
        return self.recorder.receipt_for(delivery_id)

    async def aclose(self) -> None:
        return None


def factory(config) -> HttpPushDestination | InProcessDestination:  # noqa: ANN001
    """Adapter factory (`adapters.local:factory`)."""
    options = dict(config.options)
    if options.get("url"):
        return HttpPushDestination(config.name, options["url"], timeout=float(options.get("timeout", 10.0)),
                                   transport=options.get("transport", "aiohttp"),
                                   max_connections=int(options.get("max_connections", max(100, config.concurrency))))
    from gateway.paths import ROOT

    if not options.get("keys_dir"):
        raise ValueError(f"destination {config.name!r}: the in-process recorder needs options.keys_dir")
    keys_dir = Path(options["keys_dir"])
    record_file = Path(options.get("record_file") or "var/local-destination.jsonl")
    record_file = record_file if record_file.is_absolute() else ROOT / record_file
    return InProcessDestination(config.name, Recorder(record_file, _load_key(keys_dir), config.name))


