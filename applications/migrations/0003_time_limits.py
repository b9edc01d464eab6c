"""Preload the utility-side time limits of TIME_LIMITS.md (administrators edit them later)."""

from django.db import migrations

LIMITS = {
    # customer class: {clock: working days}
    "residential": {"whole_process": 5},
    "lv_non_residential": {"plan_reply": 7, "energization": 5, "whole_process": 6},
    "hv_single": {
        "plan_reply": 15,
        "design_review": 10,
        "intermediate_inspection": 5,
        "completion_inspection": 5,
        "energization": 5,
        "whole_process": 22,
    },
    "hv_dual": {
        "plan_reply": 30,
        "design_review": 10,
        "intermediate_inspection": 5,
        "completion_inspection": 5,
        "energization": 5,
        "whole_process": 32,
    },
}


def load(apps, schema_editor):
    TimeLimit = apps.get_model("applications", "TimeLimit")
    for customer_class, clocks in LIMITS.items():
        for clock, days in clocks.items():
            TimeLimit.objects.update_or_create(
                clock=clock, customer_class=customer_class, defaults={"working_days": days}
            )


class Migration(migrations.Migration):
    dependencies = [("applications", "0002_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
