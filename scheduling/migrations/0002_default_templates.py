"""Load the default network templates (data an administrator may later version and edit).

Activity-on-arrow, as the utility's planners draw them. Utility-side durations on the
critical path fit the whole-process commitment of TIME_LIMITS.md (6 / 22 / 32 working
days); customer-side activities (party "customer") do not count against it. ``clock`` names
the time limit an activity's working days count against; ``milestone`` marks the
activities the stage guards ask for.
"""

from django.db import migrations


def act(code, tail, head, duration, shortest, name, name_en, stage, department,
        party="utility", kind="normal", parallel=(), clock="", milestone=""):
    return {
        "code": code, "tail": tail, "head": head, "duration": duration,
        "shortest_duration": shortest, "name": name, "name_en": name_en, "stage": stage,
        "department": department, "party": party, "kind": kind,
        "parallel_with": list(parallel), "clock": clock, "milestone": milestone,
        "is_dummy": False,
    }


def dummy(tail, head):
    return {"code": "", "tail": tail, "head": head, "duration": 0, "is_dummy": True}


CUSTOMER = "customer"
MEETING = "meeting"
PLAN, DESIGN_REVIEW, MIDDLE, COMPLETION, ENERGIZE = (
    "plan_reply", "design_review", "intermediate_inspection", "completion_inspection",
    "energization",
)

LV_NON_RESIDENTIAL = [
    act("A", 1, 2, 1, 1, "受理用电申请", "Accept the application", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "现场勘查", "Site survey", "survey", "marketing", clock=PLAN),
    act("C", 3, 4, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", clock=PLAN, milestone="plan_approved"),
    act("D", 4, 5, 5, None, "客户内部工程施工", "Customer's internal works", "construction", None, party=CUSTOMER),
    act("E", 4, 6, 2, 1, "配套表箱及接户线工程", "Meter box and service drop", "construction", "operations"),
    dummy(6, 5),
    act("F", 5, 7, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

# The default template of the design (examples/networks/hv-single-10kv.json) with the
# shortest durations and the parallel runs the corrective proposals may use.
HV_SINGLE_10KV = [
    act("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "受理用户征询", "Accept the enquiry", "consultation", "marketing", clock=PLAN),
    act("C", 3, 4, 1, 1, "答复客户", "Answer the customer", "consultation", "marketing", clock=PLAN),
    act("D", 4, 5, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", clock=PLAN),
    act("E", 5, 6, 2, 1, "现场勘查", "Site survey", "survey", "marketing", parallel=["D"], clock=PLAN),
    act("F", 6, 7, 4, 2, "供电方案设计", "Supply-plan design", "design", "planning", clock=PLAN),
    act("G", 7, 8, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", kind=MEETING, clock=PLAN, milestone="plan_approved"),
    act("H", 8, 9, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", clock=PLAN),
    act("I", 9, 10, 10, None, "受电工程设计", "Customer's design", "construction", None, party=CUSTOMER),
    act("J", 10, 11, 3, 2, "设计审查", "Design review", "construction", "operations", clock=DESIGN_REVIEW),
    act("K", 11, 12, 20, None, "受电工程施工", "Customer's construction", "construction", None, party=CUSTOMER),
    act("L", 12, 14, 3, 2, "竣工检验", "Completion inspection", "construction", "operations", clock=COMPLETION, milestone="completion_inspection"),
    act("M", 9, 13, 3, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", party=CUSTOMER, milestone="fees_settled"),
    dummy(13, 14),
    act("N", 9, 14, 25, 18, "配套电网工程", "Grid-side works", "construction", "construction"),
    act("O", 14, 15, 2, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", parallel=["L"], clock=ENERGIZE, milestone="contract_signed"),
    act("P", 15, 16, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

HV_DUAL_10KV = [
    act("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", clock=PLAN),
    act("C", 3, 4, 2, 1, "现场勘查", "Site survey", "survey", "marketing", parallel=["B"], clock=PLAN),
    act("D", 4, 5, 8, 5, "双电源供电方案设计", "Dual-source supply-plan design", "design", "planning", clock=PLAN),
    act("E", 5, 6, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", kind=MEETING, clock=PLAN, milestone="plan_approved"),
    act("F", 6, 7, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", clock=PLAN),
    act("G", 7, 8, 15, None, "受电工程设计", "Customer's design", "construction", None, party=CUSTOMER),
    act("H", 8, 9, 3, 2, "设计审查", "Design review", "construction", "operations", clock=DESIGN_REVIEW),
    act("I", 9, 10, 15, None, "受电工程施工（土建）", "Customer's civil works", "construction", None, party=CUSTOMER),
    act("J", 10, 11, 3, 2, "中间检查", "Intermediate inspection", "construction", "operations", clock=MIDDLE),
    act("K", 11, 12, 10, None, "受电工程施工（安装）", "Customer's installation", "construction", None, party=CUSTOMER),
    act("L", 12, 14, 3, 2, "竣工检验", "Completion inspection", "construction", "operations", clock=COMPLETION, milestone="completion_inspection"),
    act("M", 7, 13, 3, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", party=CUSTOMER, milestone="fees_settled"),
    dummy(13, 14),
    act("N", 7, 14, 40, 30, "配套电网工程（双回路）", "Grid-side works (two circuits)", "construction", "construction"),
    act("O", 14, 15, 2, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", parallel=["L"], clock=ENERGIZE, milestone="contract_signed"),
    act("Q", 15, 16, 2, 1, "调度协议与启动方案", "Dispatch agreement and start-up plan", "energization", "dispatch", clock=ENERGIZE),
    act("P", 16, 17, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

# For 110 kV and above the customer's commissioned access-system design (D) is excluded
# from the plan-reply clock: it is customer-side.
HV_35KV_AND_ABOVE = [
    act("A", 1, 2, 1, 1, "办理需求手续", "Register the demand", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "受理用户申请", "Accept the application", "consultation", "marketing", clock=PLAN),
    act("C", 3, 4, 2, 1, "联合现场勘查", "Joint site survey", "survey", "marketing", clock=PLAN),
    act("D", 4, 5, 20, None, "接入系统设计（客户委托）", "Access-system design (customer-commissioned)", "design", None, party=CUSTOMER),
    act("E", 5, 6, 3, 2, "接入系统方案评审", "Access-system review", "design", "planning", clock=PLAN),
    act("F", 6, 7, 1, 1, "供电方案审查会", "Supply-plan review meeting", "design", "planning", kind=MEETING, clock=PLAN, milestone="plan_approved"),
    act("G", 7, 8, 1, 1, "供电方案答复", "Supply-plan reply", "design", "marketing", clock=PLAN),
    act("H", 8, 9, 20, None, "受电工程设计", "Customer's design", "construction", None, party=CUSTOMER),
    act("I", 9, 10, 3, 2, "设计审查", "Design review", "construction", "operations", clock=DESIGN_REVIEW),
    act("J", 10, 11, 30, None, "受电工程施工（土建）", "Customer's civil works", "construction", None, party=CUSTOMER),
    act("K", 11, 12, 2, 1, "中间检查", "Intermediate inspection", "construction", "operations", clock=MIDDLE),
    act("L", 12, 13, 20, None, "受电工程施工（安装）", "Customer's installation", "construction", None, party=CUSTOMER),
    act("M", 13, 15, 3, 2, "竣工检验", "Completion inspection", "construction", "operations", clock=COMPLETION, milestone="completion_inspection"),
    act("N", 8, 14, 5, None, "缴纳业务费用", "Pay the fees", "fees", "marketing", party=CUSTOMER, milestone="fees_settled"),
    dummy(14, 15),
    act("O", 8, 15, 60, 45, "配套电网工程", "Grid-side works", "construction", "construction"),
    act("P", 15, 16, 1, 1, "供用电合同签订", "Sign the supply contract", "energization", "marketing", parallel=["M"], clock=ENERGIZE, milestone="contract_signed"),
    act("Q", 16, 17, 2, 1, "调度协议与启动送电方案", "Dispatch agreement and start-up plan", "energization", "dispatch", clock=ENERGIZE),
    act("R", 17, 18, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
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
        rows = [dict(row) for row in rows]
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
            department = row.pop("department", None)
            ActivityTemplate.objects.create(
                template=template,
                sort_order=order * 10,
                department=departments.get(department) if department else None,
                **row,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0001_initial"),
        ("accounts", "0002_departments"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
