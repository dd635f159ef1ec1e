"""Profile checks that span sections (a level named in a rule must be a level, a list named
anywhere must be a list of the profile, ...); each problem comes with its exact key path."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.domain.policy.profile import Profile


def cross_check(p: Profile) -> list[tuple[str, str]]:
    """Checks that span sections; each gives the exact key path."""
    problems: list[tuple[str, str]] = []
    levels = p.bad_credit.levels
    if len(set(levels)) != len(levels):
        problems.append(("bad_credit.levels", "levels repeat"))
    for section, rules in (
        ("accident_levels", p.bad_credit.accident_levels),
        ("violation_cases", p.bad_credit.violation_cases),
    ):
        for i, rule in enumerate(rules):
            if rule.level not in levels:
                problems.append(
                    (
                        f"bad_credit.{section}.{i}.level",
                        f"unknown level {rule.level!r}; one of {', '.join(levels)}",
                    )
                )
    lists = set(p.lists)
    for kind, lp in p.lists.items():
        for target in lp.implies:
            if target not in lists or target == kind:
                problems.append((f"lists.{kind}.implies", f"{target!r} is not another list of this profile"))
        seen: set[str] = set()
        for i, case in enumerate(lp.cases):
            if case.key in seen:
                problems.append((f"lists.{kind}.cases.{i}.key", f"case key {case.key!r} repeats"))
            seen.add(case.key)
            if case.accidents and case.accidents.count > 1 and case.accidents.window is None:
                problems.append(
                    (
                        f"lists.{kind}.cases.{i}.accidents.window",
                        "counting more than one accident needs a window",
                    )
                )
        if lp.removal.window_before_expiry_working_days is None and lp.removal.early_after is None:
            problems.append(
                (f"lists.{kind}.removal", "state window_before_expiry_working_days or early_after")
            )
    if p.incentive.on_fraud.list not in lists:
        problems.append(
            ("incentive.on_fraud.list", f"{p.incentive.on_fraud.list!r} is not a list of this profile")
        )
    numbers = [
        getattr(p.incentive.conditions, name).number for name in type(p.incentive.conditions).model_fields
    ]
    if sorted(numbers) != [1, 2, 3, 4, 5, 6]:
        problems.append(("incentive.conditions", "conditions must be numbered 1 to 6, once each"))
    bands = p.ratings.stars.bands
    for i in range(1, len(bands)):
        if not (bands[i].min_score < bands[i - 1].min_score and bands[i].stars < bands[i - 1].stars):
            problems.append(
                (f"ratings.stars.bands.{i}", "bands must go from most stars and highest score down")
            )
    tiers = p.supervision.tiers
    for i, tier in enumerate(tiers):
        last = i == len(tiers) - 1
        if last and tier.when:
            problems.append(
                (f"supervision.tiers.{i}.when", "the last tier is the default and has no conditions")
            )
        if not last and not tier.when:
            problems.append((f"supervision.tiers.{i}.when", "only the last tier may be the default"))
        for j, cond in enumerate(tier.when):
            for target in cond.listed_on or ():
                if target not in lists:
                    problems.append(
                        (
                            f"supervision.tiers.{i}.when.{j}.listed_on",
                            f"{target!r} is not a list of this profile",
                        )
                    )
    keys = [d.key for d in p.publication.deadlines]
    if len(set(keys)) != len(keys):
        problems.append(("publication.deadlines", "deadline keys repeat"))
    for kind in p.measures:
        if kind in ("joint_punishment", "blacklist") and kind not in lists:
            problems.append((f"measures.{kind}", f"{kind!r} is not a list of this profile"))
    return problems
