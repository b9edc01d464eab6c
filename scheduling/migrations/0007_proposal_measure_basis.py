"""Proposals name their application, their measure and the forecast they came from.

Existing open proposals get the measure of their kind and activities; where one
application has several open copies of a measure (one per deviation, as before), the
newest stays open and the others are superseded. Their basis is unknown, so it is set to
version 0: every existing open proposal is stale until the next analysis recomputes it.
"""

import django.db.models.deletion
from django.db import migrations, models


def backfill(apps, schema_editor):
    Proposal = apps.get_model("scheduling", "Proposal")
    seen = set()
    for proposal in Proposal.objects.select_related("deviation").order_by("-id").iterator():
        proposal.application_id = proposal.deviation.application_id
        proposal.measure = f"{proposal.kind}:{','.join(proposal.activities or [])}"[:255]
        proposal.basis_version = 0
        proposal.basis_finish = proposal.new_finish or proposal.deviation.detected_at.date()
        if proposal.status == "proposed":
            key = (proposal.application_id, proposal.measure)
            if key in seen:
                proposal.status = "superseded"
            seen.add(key)
        proposal.save(
            update_fields=["application", "measure", "basis_version", "basis_finish", "status"]
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
            name="basis_version",
            field=models.PositiveIntegerField(null=True, verbose_name="computed at application version"),
        ),
        migrations.AddField(
            model_name="proposal",
            name="basis_finish",
            field=models.DateField(null=True, verbose_name="computed from the forecast finish"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
    ]
