"""Compare two stored plan versions of one application, activity by activity.

A plan version (a baseline) keeps the network it was computed from (the engine's network
JSON: ``activities`` with ``id``, ``duration``, ``tail``/``head`` or ``predecessors`` …)
and the schedule the engine computed (``duration`` Tc, ``planned_duration`` Tp and per
activity ``es``, ``ef``, ``tf``, ``ff``, ``critical``). The comparison reads only these,
so it shows what was approved then, whatever the activities hold now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPARED = ("duration", "shortest_duration", "logic", "department", "es", "ef", "tf", "critical")


@dataclass(frozen=True)
class ActivityChange:
    """One activity in both versions: ``before`` and ``after`` map each compared field."""

    code: str
    name: str
    before: dict[str, Any] | None  # None: the activity is new in the later version
    after: dict[str, Any] | None  # None: the activity is gone from the later version
    changed: tuple[str, ...] = field(default=())

    @property
    def moved(self) -> bool:
        return bool(self.changed)


@dataclass(frozen=True)
class PlanComparison:
    duration_before: int
    duration_after: int
    planned_before: int
    planned_after: int
    activities: tuple[ActivityChange, ...]

    @property
    def duration_change(self) -> int:
        return self.duration_after - self.duration_before

    @property
    def moved(self) -> tuple[ActivityChange, ...]:
        return tuple(a for a in self.activities if a.moved)


def logic_text(item: dict) -> str:
    """Write an activity's logic: ``3→4`` (events) or ``A, B+2`` (predecessors)."""
    if item.get("tail") is not None:
        return f"{item['tail']}→{item['head']}"
    parts = []
    for pred in item.get("predecessors") or []:
        if isinstance(pred, dict):
            lag = pred.get("lag") or 0
            parts.append(f"{pred['id']}{lag:+d}" if lag else str(pred["id"]))
        else:
            parts.append(str(pred))
    return ", ".join(parts)


def _facts(item: dict, times: dict) -> dict[str, Any]:
    return {
        "duration": item.get("duration"),
        "shortest_duration": item.get("shortest_duration"),
        "logic": logic_text(item),
        "department": item.get("department"),
        "es": times.get("es"),
        "ef": times.get("ef"),
        "tf": times.get("tf"),
        "critical": bool(times.get("critical")),
    }


def _real(network: dict) -> dict[str, dict]:
    return {
        item["id"]: item
        for item in network.get("activities", [])
        if not item.get("dummy") and item.get("id")
    }


def compare(network_a: dict, schedule_a: dict, network_b: dict, schedule_b: dict) -> PlanComparison:
    """Return what moved from plan version a to plan version b, in b's order then a's."""
    real_a, real_b = _real(network_a), _real(network_b)
    times_a = schedule_a.get("activities", {})
    times_b = schedule_b.get("activities", {})
    codes = list(real_b) + [code for code in real_a if code not in real_b]
    rows = []
    for code in codes:
        item_a, item_b = real_a.get(code), real_b.get(code)
        before = _facts(item_a, times_a.get(code, {})) if item_a else None
        after = _facts(item_b, times_b.get(code, {})) if item_b else None
        if before is None or after is None:
            changed = COMPARED
        else:
            changed = tuple(name for name in COMPARED if before[name] != after[name])
        rows.append(
            ActivityChange(
                code=code,
                name=(item_b or item_a).get("name") or "",
                before=before,
                after=after,
                changed=changed,
            )
        )
    return PlanComparison(
        duration_before=schedule_a["duration"],
        duration_after=schedule_b["duration"],
        planned_before=schedule_a["planned_duration"],
        planned_after=schedule_b["planned_duration"],
        activities=tuple(rows),
    )
