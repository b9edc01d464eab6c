"""Who caused an application's lateness: each late working day to the party that caused it.

Pure: the engine's schedules in, working days per party out. The lateness is the
forecast's overrun of the planned duration Tp (the committed duration): the working days
past the committed finish. Each of them is attributed to one party:

1. The delay an activity causes itself comes from
   :func:`scheduling.deviation.analyse_forecast` with ``causes_only``: its finish beyond
   plan less what it merely inherited from late predecessors.
2. Of that, only what reaches the end of the network moves the finish: the delay beyond
   the activity's total float measured against Tc (an activity on the critical path
   passes all of it on).
3. The commitment's margin (Tp - Tc, the float every activity has against Tp) absorbs
   the earliest such days, in the order of the activities' baseline starts; the days
   after it are attributed in the same order until the overrun is used up, so the days
   of all parties add up to the overrun when the slips follow one another.

The party of an activity is the caller's to name (the activity's department for
utility-side work, the customer for customer-side work): the mapping ``party_of``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from .cpm import Schedule
from .deviation import analyse_forecast

CUSTOMER = "customer"


def delay_by_party(
    baseline: Schedule, forecast: Schedule, party_of: Mapping[str, Hashable]
) -> dict[Hashable, int]:
    """Return the working days past the committed finish caused by each party (only the
    parties that caused any); empty when the forecast is not past Tp."""
    overrun = forecast.duration - baseline.planned_duration
    if overrun <= 0:
        return {}
    margin = max(0, baseline.planned_duration - baseline.duration)
    unabsorbed = margin
    causes = sorted(
        analyse_forecast(baseline, forecast, causes_only=True),
        key=lambda found: (baseline.activities[found.activity].es, found.activity),
    )
    caused: dict[Hashable, int] = {}
    left = overrun
    for found in causes:
        float_to_tc = max(0, baseline.activities[found.activity].tf - margin)
        days = max(0, found.delay - float_to_tc)
        absorbed = min(unabsorbed, days)
        unabsorbed -= absorbed
        days = min(days - absorbed, left)
        if days:
            party = party_of.get(found.activity)
            caused[party] = caused.get(party, 0) + days
            left -= days
        if not left:
            break
    return caused
