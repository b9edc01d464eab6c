"""How much of a manager's capacity one active application takes (DESIGN §7)."""

from django.db.models import Case, IntegerField, Q, Value, When

from yekuo.domain import CustomerClass

# How much of a manager's capacity one active application takes. An important customer
# (重要客户) and a dual-source high-voltage connection each need about twice the
# coordination of an ordinary one (two supply points to plan, more reviews and
# inspections, closer follow-up), so they count 2; every other application counts 1.
HEAVY_APPLICATION_WEIGHT = 2
APPLICATION_WEIGHT = 1


def application_weight(*, is_important: bool, customer_class: str) -> int:
    """Return how much of a manager's capacity one application takes."""
    if is_important or customer_class == CustomerClass.HV_DUAL:
        return HEAVY_APPLICATION_WEIGHT
    return APPLICATION_WEIGHT


def weight_expression():
    """Return ``application_weight`` as an SQL expression over application rows."""
    return Case(
        When(
            Q(is_important=True) | Q(customer_class=CustomerClass.HV_DUAL),
            then=Value(HEAVY_APPLICATION_WEIGHT),
        ),
        default=Value(APPLICATION_WEIGHT),
        output_field=IntegerField(),
    )
