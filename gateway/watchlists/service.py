"""Watchlist use cases (贷后监控): register, read, add and remove subjects, read the changes.

A watchlist belongs to the partner whose key made it and is seen by no other (another
partner's list is as good as absent: 404). Its `sector` is the partner's; what its notices
carry is what that sector sees in a credit answer. A `webhook` or `digest` list names the
destination its notices go to: a destination the operator configured for that partner
(`options.partner`: its USCC) whose subscription takes `watch` items; a partner never gives a
URL of its own (no callback to an arbitrary address, and the receipts are pinned like any
destination's).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.access.keys import Principal
from gateway.domain.identifiers import IdentifierError
from gateway.domain.identifiers import uscc as uscc_codes
from gateway.errors import GatewayError
from gateway.store.db import Database
from gateway.watchlists import repository as repo
from gateway.watchlists.dispatch import MODES, POLL

WATCH_SECTORS = frozenset({"finance", "insurance"})


class WatchlistNotFound(GatewayError):
    status, slug, title = 404, "watchlist-not-found", "No such watchlist"


class WatchlistInvalid(GatewayError):
    status, slug, title = 400, "watchlist-invalid", "The watchlist cannot be accepted"


class WatchlistsNotPermitted(GatewayError):
    status, slug, title = 403, "watchlists-not-permitted", "Watchlists are for finance and insurance partners"


class WatchlistTooLarge(GatewayError):
    status, slug, title = 413, "watchlist-too-large", "Too many subjects for one watchlist"


@dataclass
class WatchlistService:
    db: Database
    clock: Any
    destinations: Any  # DestinationRegistry
    max_subjects: int = 100_000

    # --- parsing ----------------------------------------------------------------------------

    @staticmethod
    def parse_subjects(body: Any, content_type: str | None) -> list[tuple[str, str | None]]:
        """(USCC, reference) pairs from a JSON list (strings or {uscc, reference}) or CSV text
        (a header row naming `uscc` and optionally `reference`, or one code per line); every
        code is validated, and any bad one refuses the whole request, each named by its row."""
        pairs: list[tuple[int, str, str | None]] = []
        if not body:  # an empty body (connexion hands an empty CSV over as {}): no subject
            body = b""
        if isinstance(body, (bytes, str)):  # text/csv
            text = body.decode("utf-8-sig") if isinstance(body, bytes) else body
            rows = list(csv.reader(io.StringIO(text)))
            start, code_at, ref_at = 0, 0, None
            if rows and rows[0] and rows[0][0].strip().lower() in ("uscc", "subject", "统一社会信用代码", "code"):
                header = [h.strip().lower() for h in rows[0]]
                code_at = 0
                ref_at = header.index("reference") if "reference" in header else None
                start = 1
            for n, row in enumerate(rows[start:], start=start + 1):
                if not row or not row[code_at].strip():
                    continue
                ref = row[ref_at].strip() if ref_at is not None and ref_at < len(row) and row[ref_at].strip() else None
                pairs.append((n, row[code_at], ref))
        else:
            items = body.get("subjects") if isinstance(body, dict) else body
            if not isinstance(items, list):
                raise WatchlistInvalid("subjects: expected a list of USCCs or {uscc, reference} objects")
            for n, item in enumerate(items, start=1):
                if isinstance(item, str):
                    pairs.append((n, item, None))
                elif isinstance(item, dict) and isinstance(item.get("uscc"), str):
                    ref = item.get("reference")
                    pairs.append((n, item["uscc"], str(ref)[:100] if ref is not None else None))
                else:
                    raise WatchlistInvalid(f"subjects[{n}]: expected a USCC or {{uscc, reference}}")
        out: dict[str, str | None] = {}
        bad: list[dict[str, Any]] = []
        for n, code, ref in pairs:
            try:
                key = uscc_codes.validate(code)
            except IdentifierError as exc:
                if len(bad) < 100:
                    bad.append({"row": n, "value": code[:40], "reason": str(exc)})
                continue
            out[key] = ref if ref is not None else out.get(key)
        if bad:
            raise WatchlistInvalid(f"{len(bad)} subject code(s) are not valid USCCs; nothing was changed",
                                   invalid=bad)
        return list(out.items())

    # --- use cases ------------------------------------------------------------------------

    def create(self, who: Principal, *, name: str, mode: str, destination: str | None,
               subjects: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
        self._may_watch(who)
        if mode not in MODES:
            raise WatchlistInvalid(f"mode: {mode!r}; one of {', '.join(MODES)}")
        if mode != POLL:
            self._check_destination(who, destination)
        elif destination:
            raise WatchlistInvalid("destination: a poll watchlist has none (its changes are read with ?since=)")
        self._check_size(len(subjects))
        now = self.clock.now()
        watchlist_id = "wl-" + secrets.token_hex(8)
        with self.db.write() as conn:
            repo.create(conn, watchlist_id=watchlist_id, partner_id=who.partner_id, name=name, sector=who.sector,
                        mode=mode, destination=destination if mode != POLL else None, created_by=f"key:{who.key_id}",
                        now=now)
            count = repo.add_subjects(conn, watchlist_id, subjects, now)
            return self._describe(repo.get(conn, watchlist_id), count)

    def get(self, who: Principal, watchlist_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = self._own(conn, who, watchlist_id)
            return self._describe(row, row.subject_count)

    def list(self, who: Principal) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return [self._describe(r, r.subject_count)
                    for r in repo.of_partner(conn, None if who.is_operator else who.partner_id)]

    def subjects(self, who: Principal, watchlist_id: str, *, after: str | None, limit: int) -> dict[str, Any]:
        with self.db.read() as conn:
            self._own(conn, who, watchlist_id)
            rows = repo.subjects(conn, watchlist_id, after=after, limit=limit)
        items = [{"uscc": r.subject_key, "reference": r.reference, "added_at": r.added_at.isoformat()} for r in rows]
        return {"subjects": items, "next": items[-1]["uscc"] if len(items) == limit else None}

    def add(self, who: Principal, watchlist_id: str, subjects: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.write() as conn:
            row = self._own(conn, who, watchlist_id)
            self._check_size(row.subject_count + len(subjects), already=row.subject_count)
            count = repo.add_subjects(conn, watchlist_id, subjects, now)
            if count > self.max_subjects:
                raise WatchlistTooLarge(f"{count} subjects; at most {self.max_subjects} per watchlist",
                                        limit=self.max_subjects)
            return self._describe(repo.get(conn, watchlist_id), count)

    def remove(self, who: Principal, watchlist_id: str, keys: Iterable[str]) -> dict[str, Any]:
        now = self.clock.now()
        with self.db.write() as conn:
            self._own(conn, who, watchlist_id)
            count = repo.remove_subjects(conn, watchlist_id, keys, now)
            return self._describe(repo.get(conn, watchlist_id), count)

    def delete(self, who: Principal, watchlist_id: str) -> None:
        with self.db.write() as conn:
            self._own(conn, who, watchlist_id)
            repo.delete_watchlist(conn, watchlist_id)

    def changes(self, who: Principal, watchlist_id: str, *, since: int, limit: int) -> dict[str, Any]:
        with self.db.read() as conn:
            self._own(conn, who, watchlist_id)
            rows = repo.changes_since(conn, watchlist_id, since, limit)
        items = [change_view(r) for r in rows]
        return {"watchlist": watchlist_id, "since": since, "changes": items,
                "next": items[-1]["cursor"] if items else since, "more": len(items) == limit}

    # --- checks -------------------------------------------------------------------------------

    def _may_watch(self, who: Principal) -> None:
        if who.sector not in WATCH_SECTORS or who.partner_id is None:
            raise WatchlistsNotPermitted(f"watchlists are for finance and insurance partners (this key: {who.sector})",
                                         sector=who.sector)

    def _check_size(self, n: int, already: int = 0) -> None:
        if n > self.max_subjects:
            raise WatchlistTooLarge(f"{n} subjects; at most {self.max_subjects} per watchlist"
                                    + (f" ({already} already on it)" if already else ""), limit=self.max_subjects)

    def _check_destination(self, who: Principal, name: str | None) -> None:
        if not name:
            raise WatchlistInvalid("destination: a webhook or digest watchlist names the destination configured "
                                   "for your organisation (ask the gateway's operators)")
        if name not in self.destinations:
            raise WatchlistInvalid(f"destination: {name!r} is not configured")
        config = self.destinations.get(name)
        if str(config.options.get("partner") or "") != (who.organisation or ""):
            raise WatchlistInvalid(f"destination: {name!r} is not configured for your organisation")
        kinds = set(config.subscription.item_kinds)
        if not kinds & {"watch", "watch.change"}:
            raise WatchlistInvalid(f"destination: {name!r} does not take watch notices (subscription.item_kinds)")

    def _own(self, conn: Any, who: Principal, watchlist_id: str) -> Any:
        row = repo.get(conn, watchlist_id)
        if row is None or (not who.is_operator and row.partner_id != who.partner_id):
            raise WatchlistNotFound(f"no watchlist {watchlist_id!r}")
        return row

    @staticmethod
    def _describe(row: Any, count: int) -> dict[str, Any]:
        return {"id": row.id, "name": row.name, "sector": row.sector, "mode": row.mode,
                "destination": row.destination, "subjects": count, "created_at": _iso(row.created_at),
                "updated_at": _iso(row.updated_at), "last_digest_at": _iso(row.last_digest_at),
                "changes": f"/v1/watchlists/{row.id}/changes?since=0"}


def change_view(row: Any) -> dict[str, Any]:
    body = row.body
    return {"cursor": row.cursor, "subject": row.subject_key, "subject_name": body.get("subject_name"),
            "standing_version": row.standing_version, "changed_at": _iso(row.changed_at),
            "before": body.get("before"), "after": body["after"], "changes": body["changes"],
            "reasons": body.get("reasons", []), "notified_in": row.bulletin_id if row.bulletin_id != "-" else None}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
