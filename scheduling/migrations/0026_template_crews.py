"""Which shared crew each activity of the shipped templates queues for (issue 20):
surveys the survey crew, design reviews the design-review crew, inspections the inspection
crew, metering work the metering crew, review meetings the region's review meeting."""

from django.db import migrations

SURVEY = ("现场勘查", "现场核查", "联合现场勘查")
DESIGN_REVIEW = ("设计审查", "接入系统方案评审")
INSPECTION = ("中间检查", "竣工检验", "临时受电设施检验")
ENERGIZATION = ("装表接电", "旧址拆表销户", "变压器封停及抄表", "变压器封停及计量装置更换")


def load(apps, schema_editor):
    ActivityTemplate = apps.get_model("scheduling", "ActivityTemplate")
    Activity = apps.get_model("scheduling", "Activity")
    for model in (ActivityTemplate, Activity):
        for kind, names in (
            ("survey", SURVEY),
            ("design_review", DESIGN_REVIEW),
            ("inspection", INSPECTION),
            ("energization", ENERGIZATION),
        ):
            model.objects.filter(name__in=names, is_dummy=False, crew_kind="").update(
                crew_kind=kind
            )
        model.objects.filter(kind="meeting", crew_kind="").update(crew_kind="review_meeting")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0025_crews")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
