"""The default one-time notice (一次性告知): what each kind of application must hand in, by
the end of which stage. Administrators edit the list in the admin afterwards."""

from django.db import migrations

HV = ["hv_single", "hv_dual"]
WORKS = ["new", "capacity_increase", "relocation"]

# (business types or [] for every type, customer classes or [] for every class, kind,
#  stage, required, note)
DEFAULTS = [
    ([], [], "application_form", "consultation", True, "加盖公章或本人签字"),
    ([], [], "licence", "consultation", True, "营业执照或其他主体资格证明"),
    ([], [], "identity", "consultation", True, "经办人另附授权委托书"),
    ([], [], "property", "consultation", True, "房产证、土地证或租赁合同"),
    ([], HV, "load_list", "survey", True, "含主要设备容量与负荷性质"),
    ([], HV, "project_approval", "design", False, "政府主管部门核准或备案文件（如有）"),
    (WORKS, HV, "design_drawings", "construction", True, "受电工程设计图纸，设计审查前提交"),
    (WORKS, HV, "completion_report", "construction", True, "受电工程竣工报告，竣工检验前提交"),
    ([], [], "contract", "energization", False, "签订后留存一份"),
]


def load(apps, schema_editor):
    DocumentRequirement = apps.get_model("applications", "DocumentRequirement")
    if DocumentRequirement.objects.exists():
        return
    order = 0
    for types, classes, kind, stage, required, note in DEFAULTS:
        for business_type in types or [""]:
            order += 10
            DocumentRequirement.objects.create(
                business_type=business_type,
                customer_classes=classes,
                kind=kind,
                stage=stage,
                is_required=required,
                note=note,
                sort_order=order,
            )


class Migration(migrations.Migration):
    dependencies = [("applications", "0013_document_checklist")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
