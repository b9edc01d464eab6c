"""Proposals name their application, their measure and the forecast they came from.

Existing open proposals get the measure of their kind and activities; where one
application has several open copies of a measure (one per deviation, as before), the
newest stays open and the others are superseded. The forecast they came from is unknown, so
their basis is empty: every existing open proposal is stale until the next analysis
recomputes it.
"""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    Proposal = apps.get_model("scheduling", "Proposal")
    seen = set()
    for proposal in Proposal.objects.select_related("deviation").order_by("-id").iterator():
        proposal.application_id = proposal.deviation.application_id
        proposal.measure = f"{proposal.kind}:{','.join(proposal.activities or [])}"[:255]
        proposal.basis = ""
        proposal.basis_finish = proposal.new_finish or proposal.deviation.detected_at.date()
        if proposal.status == "proposed":
            key = (proposal.application_id, proposal.measure)
            if key in seen:
                proposal.status = "superseded"
            seen.add(key)
        proposal.save(
            update_fields=["application", "measure", "basis", "basis_finish", "status"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0009_application_fillfactor"),
        ("scheduling", "0006_deviation_open_by_application"),
    ]

    operations = [
        migrations.AddField(
            model_name="proposal",
            name="application",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="proposals",
                to="applications.application",
                verbose_name="application",
            ),
        ),
        migrations.AddField(
            model_name="proposal",
            name="measure",
            field=models.CharField(
                default="",
                help_text="The kind and the activities: what one open proposal at a time may say.",
                max_length=255,
                verbose_name="measure",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="proposal",
            name="basis",
            field=models.CharField(
                default="",
                help_text="A digest of the forecast the proposal was computed from.",
                max_length=32,
                verbose_name="computed from the forecast",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="proposal",
            name="basis_finish",
            field=models.DateField(null=True, verbose_name="computed from the forecast finish"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
