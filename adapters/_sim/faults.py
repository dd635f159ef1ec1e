"""Fault injection for the simulators: what operators rehearse against.

Flags (also settable at run time: `POST /_sim/faults` with the same names as JSON):

    --error-rate R          answer R of the requests with a 5xx
    --latency-ms N          hold every request N ms before answering
    --timeout-rate R        hang on R of the requests (the client's timeout fires)
    --reset-rate R          close the connection mid-answer on R of the requests
    --malformed-receipts    receipts that are not well-formed XML
    --unsigned-receipts     receipts without their signature
    --reject-items ID,..    reject these item ids in receipts (or a rate, e.g. 0.2)
    --down-between HH:MM-HH:MM   503 + Retry-After inside this local-time window (may wrap midnight)
    --down-for SECONDS      503 + Retry-After for the first SECONDS after start
    --rate-limit N          at most N requests per second; beyond: 429 + Retry-After

Decisions draw from one seeded `random.Random` (`--seed`), so a rehearsal can be repeated.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class Faults:
    error_rate: float = 0.0
    latency_ms: int = 0
    timeout_rate: float = 0.0
    reset_rate: float = 0.0
    malformed_receipts: bool = False
    unsigned_receipts: bool = False
    reject_items: frozenset[str] = field(default_factory=frozenset)
    reject_rate: float = 0.0
    down_between: tuple[dt.time, dt.time] | None = None
    down_for: float | None = None
    rate_limit: float | None = None
    hang_seconds: float = 600.0

    def with_changes(self, changes: dict[str, Any]) -> Faults:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values = dict(changes)
        if "reject_items" in values:
            ids, rate = parse_reject(values["reject_items"])
            values["reject_items"] = ids
            values.setdefault("reject_rate", rate)
        if isinstance(values.get("down_between"), str):
            values["down_between"] = parse_window(values["down_between"])
        return replace(self, **values)

    def describe(self) -> dict[str, Any]:
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "reject_items":
                value = sorted(value)
            elif f.name == "down_between" and value is not None:
                value = f"{value[0]:%H:%M}-{value[1]:%H:%M}"
            out[f.name] = value
        return out


@dataclass(frozen=True)
class Action:
    kind: str  # down | throttle | error | timeout | reset
    retry_after: int | None = None


def parse_window(text: str) -> tuple[dt.time, dt.time]:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r}: expected HH:MM-HH:MM")
    return dt.time.fromisoformat(start.strip()), dt.time.fromisoformat(end.strip())


def parse_reject(value: Any) -> tuple[frozenset[str], float]:
    """`ID,ID` (item ids) or a rate `0.2`."""
    if value is None or value == "":
        return frozenset(), 0.0
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(v) for v in value), 0.0
    text = str(value).strip()
    try:
        rate = float(text)
    except ValueError:
        return frozenset(p.strip() for p in text.split(",") if p.strip()), 0.0
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"reject rate {rate} is not within 0..1")
    return frozenset(), rate


class FaultState:
    """The faults in force plus what deciding needs: start time, the rate window, the dice."""

    def __init__(self, faults: Faults | None = None, *, seed: int | None = None) -> None:
        self.faults = faults or Faults()
        self.started = time.monotonic()
        self.random = random.Random(seed)
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def update(self, changes: dict[str, Any]) -> Faults:
        with self._lock:
            if changes.get("down_for") is not None:
                self.started = time.monotonic()
            self.faults = self.faults.with_changes(changes)
            return self.faults

    def chance(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self.random.random() < rate

    def _down(self, now_mono: float, now_local: dt.datetime) -> int | None:
        f = self.faults
        if f.down_for is not None:
            left = f.down_for - (now_mono - self.started)
            if left > 0:
                return max(1, math.ceil(left))
        if f.down_between is not None:
            start, end = f.down_between
            t = now_local.time()
            inside = start <= t < end if start <= end else (t >= start or t < end)
            if inside:
                end_at = now_local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
                if end_at <= now_local:
                    end_at += dt.timedelta(days=1)
                return max(1, math.ceil((end_at - now_local).total_seconds()))
        return None

    def decide(self, *, now_local: dt.datetime | None = None) -> Action | None:
        """What to do to this request instead of answering it (None: answer normally)."""
        now = time.monotonic()
        action = self._decide(now, now_local or dt.datetime.now())
        if action is not None:
            self.injected[action.kind] = self.injected.get(action.kind, 0) + 1
        return action

    def _decide(self, now: float, now_local: dt.datetime) -> Action | None:
        f = self.faults
        down = self._down(now, now_local)
        if down is not None:
            return Action("down", down)
        if f.rate_limit:
            with self._lock:
                while self._window and now - self._window[0] >= 1.0:
                    self._window.popleft()
                if len(self._window) >= f.rate_limit:
                    wait = 1.0 - (now - self._window[0])
                    return Action("throttle", max(1, math.ceil(wait)))
                self._window.append(now)
        if self.chance(f.error_rate):
            return Action("error")
        if self.chance(f.timeout_rate):
            return Action("timeout")
        if self.chance(f.reset_rate):
            return Action("reset")
        return None

    def rejects(self, item_id: str) -> bool:
        f = self.faults
        return item_id in f.reject_items or self.chance(f.reject_rate)


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a rate within 0..1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("faults")
    g.add_argument("--error-rate", type=_rate, default=0.0, help="answer this share of requests with 500")
    g.add_argument("--latency-ms", type=int, default=0, help="hold every request this long")
    g.add_argument("--timeout-rate", type=_rate, default=0.0, help="hang on this share of requests")
    g.add_argument("--reset-rate", type=_rate, default=0.0, help="close the connection on this share")
    g.add_argument("--malformed-receipts", action="store_true", help="answer with receipts that are not XML")
    g.add_argument("--unsigned-receipts", action="store_true", help="answer with receipts without signature")
    g.add_argument("--reject-items", metavar="ID,..|RATE", help="reject these item ids (or this share of items)")
    g.add_argument("--down-between", metavar="HH:MM-HH:MM", type=parse_window, help="503 inside this local window")
    g.add_argument("--down-for", metavar="SECONDS", type=float, help="503 for this long after start")
    g.add_argument("--rate-limit", metavar="N", type=float, help="at most N requests per second (429 beyond)")
    g.add_argument("--seed", type=int, help="seed the fault dice (repeatable rehearsals)")


def from_arguments(args: argparse.Namespace) -> FaultState:
    ids, rate = parse_reject(args.reject_items)
    faults = Faults(
        error_rate=args.error_rate, latency_ms=args.latency_ms, timeout_rate=args.timeout_rate,
        reset_rate=args.reset_rate, malformed_receipts=args.malformed_receipts,
        unsigned_receipts=args.unsigned_receipts, reject_items=ids, reject_rate=rate,
        down_between=args.down_between, down_for=args.down_for, rate_limit=args.rate_limit,
    )
    return FaultState(faults, seed=args.seed)
