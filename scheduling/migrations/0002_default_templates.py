"""Load the default network templates (data an administrator may later version and edit).

Activity-on-arrow, as the utility's planners draw them. Each row:
(code, tail, head, duration, shortest, name, name_en, stage, department code or None for
the customer, party, kind, parallel_with). A dummy is ("", tail, head, 0, ...).
"""

from django.db import migrations

U, C = "utility", "customer"
N, M = "normal", "meeting"
DUMMY = "dummy"

LV_NON_RESIDENTIAL = [
    ("A", 1, 2, 1, 1, "受理用电申请", "Accept the application", "consultation", "marketing", U, N, []),
    ("B", 2, 3, 1, 1, "现场勘查", "Site survey", "survey", "marketing", U, N, []),
    ("C", 3, 4, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", U, N, []),
    ("D", 4, 5, 5, None, "客户内部工程施工", "Customer's internal works", "construction", None, C, N, []),
    ("E", 4, 6, 2, 1, "配套表箱及接户线工程", "Meter box and service drop", "construction", "operations", U, N, []),
    (DUMMY, 6, 5, 0, None, "", "", "", None, U, N, []),
    ("F", 5, 7, 1, 1, "装表接电", "Metering and energization", "energization", "metering", U, N, []),
]

# The default template of the design (examples/networks/hv-single-10kv.json) with the
# shortest durations and the parallel runs the corrective proposals may use.
HV_SINGLE_10KV = [
    ("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", U, N, []),
    ("B", 2, 3, 1, 1, "受理用户征询", "Accept the enquiry", "consultation", "marketing", U, N, []),
    ("C", 3, 4, 1, 1, "答复客户", "Answer the customer", "consultation", "marketing", U, N, []),
    ("D", 4, 5, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", U, N, []),
    ("E", 5, 6, 2, 1, "现场勘查", "Site survey", "survey", "marketing", U, N, ["D"]),
    ("F", 6, 7, 4, 2, "供电方案设计", "Supply-plan design", "design", "planning", U, N, []),
    ("G", 7, 8, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", U, M, []),
    ("H", 8, 9, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", U, N, []),
    ("I", 9, 10, 10, None, "受电工程设计", "Customer's design", "construction", None, C, N, []),
    ("J", 10, 11, 3, 2, "设计审查", "Design review", "construction", "operations", U, N, []),
    ("K", 11, 12, 20, None, "受电工程施工", "Customer's construction", "construction", None, C, N, []),
    ("L", 12, 14, 3, 2, "竣工检验", "Completion inspection", "construction", "operations", U, N, []),
    ("M", 9, 13, 3, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", C, N, []),
    (DUMMY, 13, 14, 0, None, "", "", "", None, U, N, []),
    ("N", 9, 14, 25, 18, "配套电网工程", "Grid-side works", "construction", "construction", U, N, []),
    ("O", 14, 15, 2, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", U, N, ["L"]),
    ("P", 15, 16, 1, 1, "装表接电", "Metering and energization", "energization", "metering", U, N, []),
]

HV_DUAL_10KV = [
    ("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", U, N, []),
    ("B", 2, 3, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", U, N, []),
    ("C", 3, 4, 2, 1, "现场勘查", "Site survey", "survey", "marketing", U, N, ["B"]),
    ("D", 4, 5, 8, 5, "双电源供电方案设计", "Dual-source supply-plan design", "design", "planning", U, N, []),
    ("E", 5, 6, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", U, M, []),
    ("F", 6, 7, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", U, N, []),
    ("G", 7, 8, 15, None, "受电工程设计", "Customer's design", "construction", None, C, N, []),
    ("H", 8, 9, 3, 2, "设计审查", "Design review", "construction", "operations", U, N, []),
    ("I", 9, 10, 15, None, "受电工程施工（土建）", "Customer's civil works", "construction", None, C, N, []),
    ("J", 10, 11, 3, 2, "中间检查", "Intermediate inspection", "construction", "operations", U, N, []),
    ("K", 11, 12, 10, None, "受电工程施工（安装）", "Customer's installation", "construction", None, C, N, []),
    ("L", 12, 14, 3, 2, "竣工检验", "Completion inspection", "construction", "operations", U, N, []),
    ("M", 7, 13, 3, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", C, N, []),
    (DUMMY, 13, 14, 0, None, "", "", "", None, U, N, []),
    ("N", 7, 14, 40, 30, "配套电网工程（双回路）", "Grid-side works (two circuits)", "construction", "construction", U, N, []),
    ("O", 14, 15, 2, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", U, N, ["L"]),
    ("Q", 15, 16, 2, 1, "调度协议与启动方案", "Dispatch agreement and start-up plan", "energization", "dispatch", U, N, []),
    ("P", 16, 17, 1, 1, "装表接电", "Metering and energization", "energization", "metering", U, N, []),
]

HV_35KV_AND_ABOVE = [
    ("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", U, N, []),
    ("B", 2, 3, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", U, N, []),
    ("C", 3, 4, 3, 2, "联合现场勘查", "Joint site survey", "survey", "marketing", U, N, []),
    ("D", 4, 5, 20, None, "接入系统设计（客户委托）", "Access-system design (customer-commissioned)", "design", None, C, N, []),
    ("E", 5, 6, 5, 3, "接入系统方案评审", "Access-system review", "design", "planning", U, N, []),
    ("F", 6, 7, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", U, M, []),
    ("G", 7, 8, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", U, N, []),
    ("H", 8, 9, 20, None, "受电工程设计", "Customer's design", "construction", None, C, N, []),
    ("I", 9, 10, 5, 3, "设计审查", "Design review", "construction", "operations", U, N, []),
    ("J", 10, 11, 30, None, "受电工程施工（土建）", "Customer's civil works", "construction", None, C, N, []),
    ("K", 11, 12, 5, 3, "中间检查", "Intermediate inspection", "construction", "operations", U, N, []),
    ("L", 12, 13, 20, None, "受电工程施工（安装）", "Customer's installation", "construction", None, C, N, []),
    ("M", 13, 15, 5, 3, "竣工检验", "Completion inspection", "construction", "operations", U, N, []),
    ("N", 8, 14, 5, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", C, N, []),
    (DUMMY, 14, 15, 0, None, "", "", "", None, U, N, []),
    ("O", 8, 15, 60, 45, "配套电网工程", "Grid-side works", "construction", "construction", U, N, []),
    ("P", 15, 16, 3, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", U, N, ["M"]),
    ("Q", 16, 17, 3, 2, "调度协议与启动送电方案", "Dispatch agreement and start-up plan", "energization", "dispatch", U, N, []),
    ("R", 17, 18, 2, 1, "装表接电", "Metering and energization", "energization", "metering", U, N, []),
]

NEW_AND_INCREASE = ["new", "capacity_increase"]

TEMPLATES = [
    # code, name, customer class, voltage classes, rows
    ("lv-non-residential", "低压非居民新装/增容", "lv_non_residential", ["0.4kV"], LV_NON_RESIDENTIAL),
    ("hv-single-10kv", "高压单电源 10kV 新装/增容", "hv_single", ["10kV"], HV_SINGLE_10KV),
    ("hv-dual-10kv", "高压双电源 10kV 新装/增容", "hv_dual", ["10kV"], HV_DUAL_10KV),
    ("hv-single-35kv-above", "高压单电源 35kV 及以上新装/增容", "hv_single", ["35kV", "110kV", "220kV"], HV_35KV_AND_ABOVE),
    ("hv-dual-35kv-above", "高压双电源 35kV 及以上新装/增容", "hv_dual", ["35kV", "110kV", "220kV"], HV_35KV_AND_ABOVE),
]


def load(apps, schema_editor):
    NetworkTemplate = apps.get_model("scheduling", "NetworkTemplate")
    ActivityTemplate = apps.get_model("scheduling", "ActivityTemplate")
    Department = apps.get_model("accounts", "Department")
    departments = {d.code: d for d in Department.objects.all()}
    for code, name, customer_class, voltages, rows in TEMPLATES:
        if NetworkTemplate.objects.filter(code=code).exists():
            continue
        template = NetworkTemplate.objects.create(
            code=code,
            version=1,
            name=name,
            business_types=NEW_AND_INCREASE,
            customer_class=customer_class,
            voltage_classes=voltages,
            is_active=True,
        )
        for order, row in enumerate(rows, start=1):
            (act, tail, head, duration, shortest, act_name, name_en, stage, department,
             party, kind, parallel_with) = row
            ActivityTemplate.objects.create(
                template=template,
                sort_order=order * 10,
                code="" if act == DUMMY else act,
                is_dummy=act == DUMMY,
                tail=tail,
                head=head,
                duration=duration,
                shortest_duration=shortest,
                name=act_name,
                name_en=name_en,
                stage=stage,
                department=departments.get(department) if department else None,
                party=party,
                kind=kind,
                parallel_with=parallel_with,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("accounts", "0002_departments"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
