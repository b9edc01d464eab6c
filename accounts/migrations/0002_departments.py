"""Load the utility's departments (data an administrator may later edit)."""

from django.db import migrations

DEPARTMENTS = [
    # code, name, English name
    ("marketing", "营销部/客户服务中心", "Marketing / Customer Service Center"),
    ("planning", "发展策划部", "Development Planning"),
    ("operations", "运维检修部", "Operations and Maintenance"),
    ("construction", "建设部", "Construction"),
    ("metering", "计量中心", "Metering Center"),
    ("dispatch", "调控中心", "Dispatch and Control Center"),
]


def load(apps, schema_editor):
    Department = apps.get_model("accounts", "Department")
    for order, (code, name, name_en) in enumerate(DEPARTMENTS, start=1):
        Department.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "sort_order": order * 10}
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
