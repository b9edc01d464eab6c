"""Number the events of every AOA network template by Fulkerson's rule (tail < head).

The low-voltage template drew its dummy from event 6 back to event 5; applications are
copied from the templates, so new ones now start from tail < head everywhere. Event
numbers are notation only: no schedule changes. Existing applications keep their stored
numbers (their baselines record them); their diagram is drawn renumbered.
"""

from django.db import migrations

from scheduling.cpm import fulkerson_numbers


def number_events(apps, schema_editor):
    ActivityTemplate = apps.get_model("scheduling", "ActivityTemplate")
    by_template: dict[int, list] = {}
    for row in ActivityTemplate.objects.filter(tail__isnull=False, head__isnull=False):
        by_template.setdefault(row.template_id, []).append(row)
    for rows in by_template.values():
        numbers = fulkerson_numbers((row.tail, row.head) for row in rows)
        changed = [row for row in rows if (numbers[row.tail], numbers[row.head]) != (row.tail, row.head)]
        for row in changed:
            row.tail, row.head = numbers[row.tail], numbers[row.head]
        if changed:
            ActivityTemplate.objects.bulk_update(changed, ["tail", "head"])


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0013_deviation_effects_per_step"),
    ]

    operations = [migrations.RunPython(number_events, migrations.RunPython.noop)]
