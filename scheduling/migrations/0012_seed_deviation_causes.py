from django.db import migrations

CAUSES = [
    ("customer-not-ready", "客户原因未就绪", "Customer not ready"),
    ("design-rework", "设计返工", "Design rework"),
    ("materials", "物资供应", "Materials supply"),
    ("weather", "天气", "Weather"),
    ("other-department", "其他部门配合", "Another department"),
    ("outage-window", "停电窗口", "Outage window"),
    ("documents-missing", "资料不全", "Documents missing"),
    ("other", "其他", "Other"),
]


def load(apps, schema_editor):
    DeviationCause = apps.get_model("scheduling", "DeviationCause")
    for order, (code, name, name_en) in enumerate(CAUSES, start=1):
        DeviationCause.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0011_deviation_answer")]

    # Backwards leaves the rows: answers may refer to them, and the table goes with 0011.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
