"""The sentences that explain deviations and corrective proposals, in the reader's language.

A deviation is stored as its facts (the activity, Δ, TF, FF, whether it is critical, the
slip of its successors and of Tc, the overrun of the commitment) and a proposal as its kind,
its activities, its what-if numbers and its ``detail``. The sentences are rendered from
those facts with gettext when they are shown, mailed or serialised, so a page in English
and a mail in Chinese say the same thing and nothing is stored twice. Whatever is stored as
text (a notification, the reason of a re-plan) is rendered in the site's first language,
:data:`STORED_LANGUAGE`.

The wording follows DESIGN.md §5: the case of the delay (critical, beyond the total float,
beyond the free float, absorbed), then its effect on the successors, on Tc and on the
commitment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.utils.translation import get_language, gettext, ngettext, override, pgettext

from .deviation import (
    CASE_BEYOND_FREE_FLOAT,
    CASE_BEYOND_TOTAL_FLOAT,
    CASE_CRITICAL,
    ESCALATE,
    MEETING,
    PARALLEL,
    SHORTEN,
    classify_delay,
)

__all__ = [
    "STORED_LANGUAGE",
    "analysis_text",
    "delay_text",
    "deviation_text",
    "label",
    "proposal_text",
    "stored",
]

STORED_LANGUAGE = settings.LANGUAGE_CODE


def stored(render, *args, **kwargs) -> str:
    """Return ``render(*args, **kwargs)`` in :data:`STORED_LANGUAGE`, for text kept in a row."""
    with override(STORED_LANGUAGE):
        return render(*args, **kwargs)


def _english() -> bool:
    return not (get_language() or "").startswith("zh")


def label(row, fallback: str = "") -> str:
    """Return the name of an activity or a department in the reader's language."""
    if row is None:
        return fallback
    if _english():
        return getattr(row, "name_en", "") or getattr(row, "name", "") or fallback
    return getattr(row, "name", "") or fallback


def _days(n: int) -> str:
    return ngettext("%(count)d working day", "%(count)d working days", n) % {"count": n}


def _names(names: Sequence[str]) -> str:
    return pgettext("list of names", ", ").join(names)


def _sentence(text: str) -> str:
    """English sentences start with a capital (activity names are written in lower case)."""
    return text[:1].upper() + text[1:] if _english() else text


def delay_text(
    name: str,
    *,
    delay: int,
    total_float: int,
    free_float: int,
    critical: bool,
    total_slip: int,
    successor_slip: int,
    overrun: int,
) -> str:
    """Return the one-sentence explanation of ``name`` being ``delay`` working days late.

    The sentence follows the paper's three steps: the case of the delay, then its effect
    on the successors (said whenever the free float is exceeded), on the computed
    duration Tc (``total_slip``) and on the planned duration Tp (``overrun``, this
    activity's own push beyond the commitment). Tc's change and the commitment's overrun
    are two facts: with Tp > Tc, Tc may move while the commitment holds.
    """
    case = classify_delay(delay, total_float, free_float, critical)
    facts = {"name": name, "delay": _days(delay)}
    if case == CASE_CRITICAL:
        head = gettext("%(name)s is %(delay)s late and on the critical path") % facts
    elif case == CASE_BEYOND_TOTAL_FLOAT:
        head = gettext("%(name)s is %(delay)s late, more than its total float of %(float)s") % {
            **facts,
            "float": _days(total_float),
        }
    elif case == CASE_BEYOND_FREE_FLOAT:
        head = gettext("%(name)s is %(delay)s late, more than its free float of %(float)s") % {
            **facts,
            "float": _days(free_float),
        }
    else:
        head = gettext("%(name)s is %(delay)s late, within its free float of %(float)s") % {
            **facts,
            "float": _days(free_float),
        }
    effects = []
    if successor_slip > 0:
        effects.append(
            gettext("its successors' earliest start slips by %(days)s")
            % {"days": _days(successor_slip)}
        )
    if total_slip > 0:
        effects.append(
            gettext("the computed duration slips by %(days)s") % {"days": _days(total_slip)}
        )
    elif successor_slip > 0:
        effects.append(gettext("the computed duration is not affected"))
    else:
        effects.append(gettext("neither its successors nor the computed duration are affected"))
    if overrun > 0:
        effects.append(gettext("%(days)s beyond the planned duration") % {"days": _days(overrun)})
    elif total_slip > 0:
        effects.append(gettext("still within the planned duration"))
    text = gettext("%(head)s; %(effects)s.") % {
        "head": head,
        "effects": pgettext("list of effects", ", ").join(effects),
    }
    return _sentence(text)


def deviation_text(row) -> str:
    """Return the explanation of a stored deviation (its ``activity`` is read)."""
    activity = row.activity
    return delay_text(
        label(activity, activity.code),
        delay=row.delay,
        total_float=row.total_float,
        free_float=row.free_float,
        critical=row.critical,
        total_slip=row.total_slip,
        successor_slip=row.successor_slip,
        overrun=row.commitment_overrun,
    )


def analysis_text(name: str, found) -> str:
    """Return the explanation of the engine's :class:`~scheduling.deviation.Deviation` or
    :class:`~scheduling.deviation.DelayAnalysis` of the activity called ``name``."""
    return delay_text(
        name,
        delay=found.delay,
        total_float=found.total_float,
        free_float=found.free_float,
        critical=found.critical,
        total_slip=found.total_duration_delay,
        successor_slip=found.successor_delay,
        overrun=found.commitment_overrun,
    )


def proposal_text(proposal, activities: Mapping[str, object]) -> str:
    """Return what a corrective proposal says to do, in the reader's language.

    ``proposal`` is a stored proposal or the engine's (anything with ``kind``,
    ``activities``, ``days_recovered`` and ``detail``); ``activities`` maps the codes of
    the application's activities to rows with ``name``, ``name_en`` and ``department``
    (codes missing from it are shown as they are).
    """
    codes = list(proposal.activities)
    detail = proposal.detail or {}

    def name(code: str) -> str:
        return label(activities.get(code), code)

    recovered = _days(proposal.days_recovered or 0)
    if proposal.kind == SHORTEN:
        durations = detail.get("durations") or {}
        if len(codes) == 1 and codes[0] in durations:
            current, shortest = durations[codes[0]]
            text = gettext(
                "Shorten %(name)s from %(current)s to %(shortest)s; "
                "the finish moves %(recovered)s earlier."
            ) % {
                "name": name(codes[0]),
                "current": _days(current),
                "shortest": _days(shortest),
                "recovered": recovered,
            }
        else:
            text = gettext(
                "Shorten %(names)s together to their shortest durations; "
                "the finish moves %(recovered)s earlier."
            ) % {"names": _names([name(code) for code in codes]), "recovered": recovered}
    elif proposal.kind == PARALLEL:
        first, second = codes[:2]
        text = gettext(
            "Run %(first)s and %(second)s in parallel; the finish moves %(recovered)s earlier."
        ) % {"first": name(first), "second": name(second), "recovered": recovered}
    elif proposal.kind == MEETING:
        meeting, *late = codes
        text = gettext(
            "Finish %(names)s %(advance)s earlier so that %(meeting)s is held at this week's "
            "meeting instead of waiting %(wait)s; the finish moves %(recovered)s earlier."
        ) % {
            "names": _names([name(code) for code in late]),
            "advance": _days(detail.get("advance_days", 0)),
            "meeting": name(meeting),
            "wait": _days(detail.get("wait_days", 0)),
            "recovered": recovered,
        }
    elif proposal.kind == ESCALATE:
        text = gettext(
            "The finish is forecast %(overrun)s beyond the planned duration; escalate to the "
            "supervisor and to %(whom)s."
        ) % {
            "overrun": _days(detail.get("overrun", 0)),
            "whom": _names(_departments(codes, activities, detail))
            or (
                gettext("the account manager, who presses the customer")
                if any(getattr(activities.get(c), "party", "") == "customer" for c in codes)
                else gettext("the owning department")
            ),
        }
    else:
        raise ValueError(f"unknown kind of proposal: {proposal.kind!r}")
    return _sentence(text)


def _departments(codes, activities: Mapping[str, object], detail) -> list[str]:
    """Return the departments of the activities, once each, in the reader's language; the
    names stored with the proposal when its activities are not at hand."""
    found: dict[str, None] = {}
    for code in codes:
        department = getattr(activities.get(code), "department", None)
        if department is not None:
            found[label(department)] = None
    if not found:
        found = dict.fromkeys(detail.get("departments") or [])
    return list(found)
