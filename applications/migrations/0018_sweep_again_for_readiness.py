"""Forget every application's sweep fingerprint, so that the next sweep analyses each
one again and stores its activities' new ``is_ready`` (scheduling 0021), which the to-do
lists read. ``make run`` sweeps at start; a deployment's beat within SWEEP_INTERVAL_MINUTES
(or ``manage.py scan_deviations`` at once)."""

from django.db import migrations


def forget_fingerprints(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    Application.objects.exclude(sweep_fingerprint="").update(sweep_fingerprint="")


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0017_search_indexes"),
        ("scheduling", "0021_activity_ready"),
    ]

    operations = [migrations.RunPython(forget_fingerprints, migrations.RunPython.noop)]
