"""The engine's errors in the words of the person reading them (translated)."""

from django.utils.translation import gettext as _

from . import cpm


def describe_network_error(exc: cpm.NetworkError) -> str:
    """Return a translated sentence for an engine error, naming the offending data."""
    if isinstance(exc, cpm.CycleError):
        chain = " → ".join((*exc.activities, exc.activities[0]))
        return _("The logic has a cycle: %(chain)s.") % {"chain": chain}
    if isinstance(exc, cpm.UnknownPredecessorError):
        return _("Activity %(activity)s has an unknown predecessor %(predecessor)s.") % {
            "activity": exc.activity,
            "predecessor": exc.predecessor,
        }
    if isinstance(exc, cpm.DuplicateActivityError):
        return _("Activity code %(activity)s is used more than once.") % {"activity": exc.activity}
    if isinstance(exc, cpm.DuplicateArcError):
        return _(
            "Activities %(first)s and %(second)s both run from event %(tail)s to event "
            "%(head)s: give one of them its own head event and a dummy."
        ) % {
            "first": exc.activities[0],
            "second": exc.activities[1],
            "tail": exc.tail,
            "head": exc.head,
        }
    if isinstance(exc, cpm.EmptyNetworkError):
        return _("The network has no activities.")
    if isinstance(exc, cpm.MixedFormError):
        return _(
            "A network uses one form: event numbers (activity on arrow) or predecessors "
            "(activity on node), not both (%(first)s, %(second)s)."
        ) % {"first": exc.aoa_activity, "second": exc.aon_activity}
    if isinstance(exc, cpm.InvalidDurationError):
        return _(
            "%(field)s of activity %(activity)s must be a whole, non-negative number of "
            "working days."
        ) % {"field": exc.field, "activity": exc.activity or "—"}
    if isinstance(exc, cpm.InvalidLagError) and exc.field == "lead":
        return _(
            "%(activity)s may overlap the arcs into its tail event by at most the shortest "
            "duration of %(predecessor)s."
        ) % {"activity": exc.activity, "predecessor": exc.predecessor}
    if isinstance(exc, cpm.InvalidLagError):
        return _(
            "The lag of %(activity)s after %(predecessor)s must be whole working days; a "
            "negative lag (an overlap) may not exceed the shortest duration of %(predecessor)s."
        ) % {"activity": exc.activity, "predecessor": exc.predecessor}
    if isinstance(exc, cpm.UnknownActivityError):
        return _("There is no activity %(activity)s in the network.") % {"activity": exc.activity}
    return _("The network is not valid: %(reason)s") % {"reason": exc.message}
