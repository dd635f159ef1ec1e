"""Recording requests in the audit log: the ASGI middleware and its group-commit writer.

The middleware sits after connexion's routing and before its security step, so it sees
every routed request, the principal the security step found (`authn.access_state`), and the
outcome, refusals included. It holds the response until the entry is stored: an answer that
could not be audited is not given (503 `audit-unavailable` instead).

Appends are group-committed: requests waiting at the same moment are chained in one
transaction by one writer task per event loop, so the chain lock is taken once per group and
not once per request, and each request still waits for its own entry to be durable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from gateway.access import audit, idmask
from gateway.access.authn import access_state
from gateway.api.problems import PROBLEM, problem_bytes
from gateway.errors import GatewayError

log = logging.getLogger(__name__)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
MAX_GROUP = 500


class AuditUnavailable(GatewayError):
    status, slug, title = 503, "audit-unavailable", "Audit log unavailable"


class AuditWriter:
    """One per event loop: queue entries, store them in groups, wake each waiter."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self._pending: list[tuple[audit.AuditEntry, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    async def append(self, entry: audit.AuditEntry) -> int:
        loop = asyncio.get_running_loop()
        entry.at = entry.at or self.services.clock.now()
        fut: asyncio.Future = loop.create_future()
        self._pending.append((entry, fut))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self._pending:
            # let the requests already running add their entries: one transaction for many
            await asyncio.sleep(0)
            group, self._pending = self._pending[:MAX_GROUP], self._pending[MAX_GROUP:]
            entries = [e for e, _ in group]
            try:
                seqs = self._store_now(entries)
                if seqs is None:  # the write lock is taken (or PostgreSQL): in a worker thread, waiting
                    seqs = await run_in_threadpool(self._store, entries)
            except Exception as exc:  # every waiter learns it failed
                log.exception("appending %d audit entries failed", len(group))
                for _, fut in group:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for (_, fut), (seq, _) in zip(group, seqs, strict=True):
                if not fut.done():
                    fut.set_result(seq)
            self._checkpoint(seqs[-1])

    def _checkpoint(self, head: tuple[int, str]) -> None:
        """A signed checkpoint of the committed head when one is due (every N entries or M
        minutes; a failure is logged: the entries themselves are stored)."""
        checkpoints = getattr(self.services, "audit_checkpoints", None)
        if checkpoints is None:
            return
        try:
            checkpoints.after_append(head[0], head[1], self.services.clock.now())
        except Exception:  # noqa: BLE001 - the answer does not depend on the checkpoint file
            log.exception("writing the audit checkpoint for entry %d failed", head[0])

    def _store(self, entries: list[audit.AuditEntry]) -> list[tuple[int, str]]:
        with self.services.db.write() as conn:
            return audit.append(conn, entries, self.services.clock.now(), getattr(self.services, "audit_ids", None))

    def _store_now(self, entries: list[audit.AuditEntry]) -> list[tuple[int, str]] | None:
        """SQLite: store the group right here when the write lock is free (no waiting, so the
        event loop is never held: a commit in WAL mode does not sync); None when it is taken.
        Handing a small write to a worker thread costs more than the write (docs/notes.md)."""
        db = self.services.db
        if not db.is_sqlite:
            return None
        try:
            with db.write(wait=False) as conn:
                return audit.append(conn, entries, self.services.clock.now(), getattr(self.services, "audit_ids", None))
        except OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise


class Writers:
    """An AuditWriter per event loop (the app may be served from more than one)."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self._by_loop: dict[int, tuple[asyncio.AbstractEventLoop, AuditWriter]] = {}

    def current(self) -> AuditWriter:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(id(loop))
        if found is None or found[0] is not loop:
            found = self._by_loop[id(loop)] = (loop, AuditWriter(self.services))
        return found[1]


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def request_id_of(scope: dict[str, Any]) -> str:
    given = _headers(scope).get("x-request-id", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


def _outcome(status: int, slug: str | None) -> str:
    if slug:
        return slug
    if status < 400:
        return "ok"
    return {401: "unauthenticated", 403: "forbidden", 404: "not-found", 429: "rate-limited"}.get(status, f"http-{status}")


def build_entry(scope: dict[str, Any], status: int, slug: str | None = None) -> audit.AuditEntry | None:
    state = scope.get("extensions", {}).get("gateway_access") or {}
    principal = state.get("principal")
    presented = state.get("presented")
    if principal is None and presented is None:
        return None  # open endpoints and requests that presented no credential at all
    routing = scope.get("extensions", {}).get("connexion_routing", {})
    context = scope.get("extensions", {}).get("connexion_context", {})
    note = context.get("audit") or {}
    params = scope.get("path_params") or {}
    subject = note.get("subject") or params.get("uscc")
    detail = {"method": scope.get("method"), "path": scope.get("path"), **(note.get("detail") or {})}
    query = idmask.query_of(scope)
    if query:  # redacted like headers when the entry is stored (audit.append → idmask)
        detail["query"] = query
    if principal is None:
        detail["credential"] = presented
    return audit.AuditEntry(
        actor=principal.key_id if principal else str(presented),
        organisation=principal.organisation if principal else None,
        sector=principal.sector if principal else None,
        action=routing.get("operation_id") or f"{scope.get('method')} {scope.get('path')}",
        purpose=note.get("purpose") or _headers(scope).get("x-purpose"),
        subject=str(subject)[:80] if subject else None,
        outcome=_outcome(status, note.get("outcome") or slug),
        status=status,
        request_id=state.get("request_id"),
        detail=detail,
    )


class AuditMiddleware:
    def __init__(self, app: Any, services: Any) -> None:
        self.app = app
        self.writers = Writers(services)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = access_state(scope)
        request_id = state["request_id"] = request_id_of(scope)
        held: dict[str, Any] = {}
        sent_audit = False

        async def audited_send(message: dict[str, Any]) -> None:
            nonlocal sent_audit
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                held["start"] = message
                return
            if message["type"] == "http.response.body" and not sent_audit:
                sent_audit = True
                start = held.pop("start")
                slug = _problem_slug(start, message)
                entry = build_entry(scope, start["status"], slug)
                if entry is not None:
                    try:
                        await self.writers.current().append(entry)
                    except Exception:
                        await _unavailable(send, request_id)
                        return
                await send(start)
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        except Exception as exc:
            if not sent_audit:
                status = getattr(exc, "status_code", None) or getattr(exc, "status", None) or 500
                entry = build_entry(scope, int(status) if isinstance(status, int) else 500, getattr(exc, "slug", None))
                if entry is not None:
                    try:
                        await self.writers.current().append(entry)
                    except Exception:
                        log.exception("could not audit a refused request %s", request_id)
            raise


def _problem_slug(start: dict[str, Any], message: dict[str, Any]) -> str | None:
    if start["status"] < 400:
        return None
    ctype = dict(start.get("headers") or []).get(b"content-type", b"")
    if PROBLEM.encode() not in ctype:
        return None
    try:
        kind = json.loads(message.get("body") or b"{}").get("type", "")
    except ValueError:
        return None
    return kind.rsplit(":", 1)[-1] or None


async def _unavailable(send: Any, request_id: str) -> None:
    body = problem_bytes(AuditUnavailable("the answer could not be recorded in the audit log, so it is withheld; retry"))
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode()),
                            (b"x-request-id", request_id.encode())]})
    await send({"type": "http.response.body", "body": body})
