"""Stars over years (`003` §七; docs/policy.md §7): after two consecutive years without a star
the unit is ordered to rectify by a deadline (责令限期整改); if the deadline passes without
acceptance, 停产停业整顿 (suspension); if the acceptance after it fails, closure is proposed to
the city government (提请关闭). 验收合格 (accepted) ends the procedure. Each step is an
operator's decision with its reason, recorded with who and when, and refused when the one
before it (or the stored decision: `stars.rectification_ordered`) does not allow it.

三星 units stay under tracking supervision: that is a decision of the engine
(`stars.tracking`), not a step.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from gateway.clock import Clock, china_today
from gateway.domain.policy.profile import Profile
from gateway.errors import GatewayError
from gateway.policy import repository as repo
from gateway.policy import star_repository as stars_repo
from gateway.store.db import Database

STEPS = ("rectification", "suspension", "accepted", "closure")
_TEXT = {
    "rectification": ("责令限期整改", "ordered to rectify by a deadline"),
    "suspension": ("责令停产停业整顿", "ordered to suspend production for rectification"),
    "accepted": ("验收合格，恢复生产", "accepted: production may resume"),
    "closure": ("验收仍不合格，提请市人民政府予以关闭", "acceptance failed again: closure proposed"),
}


class StarStepRefused(GatewayError):
    status, slug, title = 409, "star-step-not-allowed", "This step of the star procedure may not follow"


def allowed_steps(steps: list[Any], ordered: bool, today: dt.date, profile: Profile) -> list[str]:
    """What may follow the recorded `steps` (oldest first) today."""
    chain = profile.ratings.stars.rectification.steps
    last = steps[-1] if steps else None
    if last is None or last.step in ("accepted", "closure"):
        return ["rectification"] if ordered and "rectification" in chain else []
    out = ["accepted"]
    if last.step == "rectification" and "suspension" in chain and last.deadline is not None and today > last.deadline:
        out.append("suspension")
    if last.step == "suspension" and "closure" in chain:
        out.append("closure")
    return out


@dataclass
class StarSteps:
    db: Database
    clock: Clock
    profile: Profile

    def steps(self, subject_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            rows = stars_repo.steps_of(conn, subject_id)
            decision = repo.get_decision(conn, subject_id, self.profile.name)
        stars = (decision.body or {}).get("stars", {}) if decision is not None else {}
        today = china_today(self.clock)
        return {"tracking": bool(stars.get("tracking")), "rectification_ordered": bool(stars.get("rectification_ordered")),
                "starless_years": list(stars.get("starless_streak") or []),
                "steps": [step_view(r) for r in rows],
                "allowed": allowed_steps(rows, bool(stars.get("rectification_ordered")), today, self.profile)}

    def record(self, subject_id: int, step: str, reason: str, actor: str, deadline: dt.date | None = None) -> dict:
        """Record one step; StarStepRefused (with `allowed`) when it may not follow."""
        if step not in STEPS:
            raise StarStepRefused(f"step must be one of {', '.join(STEPS)}", allowed=list(STEPS))
        if not reason or not reason.strip():
            raise StarStepRefused("every step is a decision with its reason: give `reason`")
        today, now = china_today(self.clock), self.clock.now()
        with self.db.write() as conn:
            rows = stars_repo.steps_of(conn, subject_id)
            decision = repo.get_decision(conn, subject_id, self.profile.name)
            stars = (decision.body or {}).get("stars", {}) if decision is not None else {}
            allowed = allowed_steps(rows, bool(stars.get("rectification_ordered")), today, self.profile)
            if step not in allowed:
                raise StarStepRefused(_why_not(step, rows, stars, today), allowed=allowed, step=step)
            if step == "rectification" and (deadline is None or deadline <= today):
                raise StarStepRefused("a rectification is ordered by a deadline after today (限期整改): give `deadline`",
                                      allowed=allowed, step=step)
            if step != "rectification":
                deadline = None
            rule = self.profile.ratings.stars.rectification
            zh, en = _TEXT[step]
            basis = {"starless_years": list(stars.get("starless_streak") or []),
                     "record_ids": [y["record_id"] for y in stars.get("years", [])
                                    if y["year"] in (stars.get("starless_streak") or [])],
                     "rule": {"rules": rule.rules, "source": rule.source, "text_zh": rule.text_zh,
                              "text_en": rule.text_en}, "decision_zh": zh, "decision_en": en}
            stars_repo.insert_step(conn, uid=f"stp_{uuid.uuid4().hex[:20]}", subject_id=subject_id, step=step,
                                   decided_on=today, deadline=deadline, reason=reason.strip(), basis=basis,
                                   actor=actor, at=now)
        return self.steps(subject_id)


def _why_not(step: str, rows: list[Any], stars: dict[str, Any], today: dt.date) -> str:
    last = rows[-1] if rows else None
    if step == "rectification":
        if last is not None and last.step not in ("accepted", "closure"):
            return f"a {last.step} is already in progress"
        return "rectification is ordered only after two consecutive years without a star (003 §七)"
    if last is None or last.step in ("accepted", "closure"):
        return "no rectification is in progress"
    if step == "suspension":
        if last.step != "rectification":
            return f"the last step is {last.step}"
        return f"停产整顿 only once the rectification deadline {last.deadline.isoformat()} has passed unaccepted"
    return "closure is proposed only when the acceptance after 停产整顿 fails"


def step_view(row: Any) -> dict[str, Any]:
    basis = row.basis or {}
    return {"id": row.uid, "step": row.step, "decided_on": row.decided_on.isoformat(),
            "deadline": row.deadline.isoformat() if row.deadline else None, "reason": row.reason,
            "decision_zh": basis.get("decision_zh"), "decision_en": basis.get("decision_en"),
            "basis": {k: v for k, v in basis.items() if k not in ("decision_zh", "decision_en")},
            "actor": row.actor, "at": row.at.isoformat()}
