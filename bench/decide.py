"""Benchmark: policy decisions for many subjects with realistic record mixes.

    .venv/bin/python bench/decide.py [--subjects N] [--profile NAME] [--seed S]

Records are generated deterministically from the seed in the normalised form intake stores
(`to_jsonable(validate_data(...))`; a sample is checked against `validate_data`), in chunks
so memory stays flat. Only `decide` is timed; the profile is loaded once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.domain.calendar import WorkingCalendar  # noqa: E402
from gateway.domain.policy import decide  # noqa: E402
from gateway.domain.records import Record, RecordKind, validate_data  # noqa: E402
from gateway.policy.profiles import load_profile  # noqa: E402

AS_OF = dt.date(2025, 6, 30)
START = dt.date(2020, 1, 1)
SPAN = (AS_OF - START).days
VIOLATIONS = [
    "jp02_unlicensed_operation",
    "jp03_hazard_unrectified",
    "jp04_obstructing_supervision",
    "jp06_accident_concealment",
    "bc_illegal_production",
    "bc_major_hazard",
    "bc_standardization_not_done",
    "bc_no_hazard_investigation_system",
    "bc_refusing_orders_or_unpaid_penalties",
    "bc_other",
    "nat_fine_multiple_114",
    "other_field_punishment",
]
ROLES = ["unit", "unit", "unit", "principal", "safety_head", "legal_representative"]


def _day(rng: random.Random) -> dt.date:
    return START + dt.timedelta(days=rng.randrange(SPAN))


def subject_records(n: int, rng: random.Random) -> list[Record]:
    subject = f"9151{n:014d}"
    out: list[Record] = []

    def add(kind: RecordKind, day: dt.date, data: dict) -> None:
        out.append(Record(f"{n}-{len(out)}", kind, subject, "bench-agency", day, data))

    if rng.random() < 0.7:
        d = _day(rng)
        data = {
            "committer_role": "unit",
            "items": ["严格执行安全生产法律法规"],
            "committed_on": d.isoformat(),
        }
        if rng.random() < 0.8:
            data["published_at"] = "信用中国(四川)"
        data["kept"] = rng.random() < 0.97
        add(RecordKind.COMMITMENT, d, data)
    for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
        d = _day(rng)
        add(
            RecordKind.LICENCE,
            d,
            {
                "XK_XDR_MC": "某公司",
                "XK_XKWS": "安全生产许可证",
                "XK_WSH": f"川安许〔{d.year}〕{n}号",
                "XK_XKLB": "普通",
                "XK_NR": "安全生产许可",
                "XK_JDRQ": d.isoformat(),
                "XK_YXQZ": d.isoformat(),
                "XK_XKJG": "某市应急管理局",
                "XK_XKJGDM": "11510700MB12345623",
                "XK_ZT": "1",
            },
        )
    for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2))):
        d = _day(rng)
        add(
            RecordKind.PENALTY,
            d,
            {
                "CF_XDR_MC": "某公司",
                "CF_WSH": f"应急罚〔{d.year}〕{n}号",
                "CF_WFXW": "未按规定开展安全生产教育培训",
                "CF_SY": "未对从业人员进行安全生产教育和培训",
                "CF_YJ": "《中华人民共和国安全生产法》第九十七条",
                "CF_CFLB": "罚款",
                "CF_NR": "罚款",
                "CF_NR_FK": str(rng.randint(1, 50)),
                "CF_JDRQ": d.isoformat(),
                "CF_CFJG": "某市应急管理局",
                "CF_CFJGDM": "11510700MB12345623",
                "serious": rng.random() < 0.1,
            },
        )
    accidents = 0
    r = rng.random()
    if r < 0.01:
        accidents = rng.randint(2, 4)
    elif r < 0.09:
        accidents = 1
    for _ in range(accidents):
        d = _day(rng)
        g = rng.random()
        grade = "general" if g < 0.95 else "larger" if g < 0.993 else "major"
        deaths = {
            "general": rng.choice((0, 0, 1, 1, 2)),
            "larger": rng.randint(3, 9),
            "major": rng.randint(10, 29),
        }[grade]
        add(
            RecordKind.ACCIDENT,
            d,
            {
                "occurred_on": d.isoformat(),
                "grade": grade,
                "deaths": deaths,
                "injuries": rng.randint(0, 5),
                "responsibility": rng.random() < 0.9,
                "egregious": rng.random() < 0.01,
                "occupational_disease_cases": 1 if rng.random() < 0.02 else 0,
            },
        )
    if rng.random() < 0.06:
        d = _day(rng)
        add(
            RecordKind.VIOLATION,
            d,
            {
                "case": rng.choice(VIOLATIONS),
                "occurred_on": d.isoformat(),
                "evidence_ref": f"执法文书 {n}",
                "person_role": rng.choice(ROLES),
            },
        )
    if rng.random() < 0.6:
        year = rng.randint(2019, 2025)
        g = rng.random()
        add(
            RecordKind.STANDARDIZATION_GRADE,
            dt.date(year, 1, 1),
            {"grade": 1 if g < 0.15 else 2 if g < 0.5 else 3, "issuer": "省应急管理厅", "year": year},
        )
    if rng.random() < 0.5:
        first = rng.randint(2019, 2024)
        for year in range(first, min(first + rng.randint(1, 3), 2025)):
            score = max(0.0, min(100.0, rng.gauss(85, 8)))
            add(
                RecordKind.INTEGRITY_SCORE,
                dt.date(year, 12, 31),
                {
                    "score": f"{score:.2f}",
                    "veto_items": ["重大隐患"] if rng.random() < 0.03 else [],
                    "year": year,
                },
            )
    if rng.random() < 0.5:
        d = _day(rng)
        add(RecordKind.INTEGRITY_REPORT, d, {"year": d.year, "filed_on": d.isoformat()})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subjects", type=int, default=100_000)
    parser.add_argument("--profile", default="municipal-2021")
    parser.add_argument("--seed", type=int, default=20250630)
    parser.add_argument("--chunk", type=int, default=10_000)
    args = parser.parse_args(argv)

    profile = load_profile(args.profile)
    calendar = WorkingCalendar()
    rng = random.Random(args.seed)

    for rec in subject_records(0, random.Random(args.seed)):  # the generator writes valid records
        validate_data(rec.kind, rec.data)

    stats: Counter[str] = Counter()
    elapsed = 0.0
    done = 0
    while done < args.subjects:
        n = min(args.chunk, args.subjects - done)
        batch = [subject_records(done + i, rng) for i in range(n)]
        stats["records"] += sum(len(b) for b in batch)
        t0 = time.perf_counter()
        results = [decide(records, AS_OF, profile, calendar) for records in batch]
        elapsed += time.perf_counter() - t0
        for d in results:
            stats["listed"] += bool(d.listed_on)
            stats["blacklisted"] += "blacklist" in d.listed_on
            stats["bad_credit"] += d.bad_credit.current
            stats["incentive_eligible"] += d.incentive.eligible
            stats[f"tier_{d.supervision.tier}"] += 1
        done += n

    rate = done / elapsed if elapsed else float("inf")
    print(f"profile {profile.name}: {done} subjects, {stats['records']} records, as of {AS_OF.isoformat()}")
    print(
        f"decide: {elapsed:.2f} s total, {rate:,.0f} subjects/s, {1e6 * elapsed / max(done, 1):.1f} µs/subject"
    )
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items()) if k != "records"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
