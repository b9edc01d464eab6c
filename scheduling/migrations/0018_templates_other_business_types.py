"""Default network templates for the other business types the acceptance form offers.

临时用电 (temporary supply), 迁址 (relocation), 减容 (capacity reduction) and 暂停 (supply
suspension) had no template, so acceptance could not plan them. What is offered where:

- temporary supply: low-voltage non-residential, and high voltage single source at 10 kV
  and 35 kV (a construction site or an event; nobody asks for a temporary dual-source or
  110 kV supply). A short network: the supply-plan reply, fees, the customer's temporary
  installation, a light completion inspection for high voltage, contract and meter.
- relocation: every class and voltage a new connection has: the new connection's network
  at the new address with the removal of the meter at the old address beside the
  energization at the new one.
- capacity reduction and supply suspension: high voltage customers only (the basic
  tariff by capacity they reduce or pause is a high-voltage tariff). Application, site
  check, the change of the metering and the sealing of the transformers; no design, no
  construction.

Events are numbered by Fulkerson's rule (0014) when loaded. Utility-side durations fit
TIME_LIMITS.md; the activity fields mean what 0002 says they mean. Reversible: the
reverse removes the templates this migration added (those no application was planned
with; an administrator deactivates the others).
"""

from importlib import import_module

from django.db import migrations

from scheduling.cpm import fulkerson_numbers

base = import_module("scheduling.migrations.0002_default_templates")
act, dummy = base.act, base.dummy
CUSTOMER, PLAN, COMPLETION, ENERGIZE = base.CUSTOMER, base.PLAN, base.COMPLETION, base.ENERGIZE

HV_ALL = ["10kV", "35kV", "110kV", "220kV"]

TEMPORARY_LV = [
    act("A", 1, 2, 1, 1, "受理临时用电申请", "Accept the temporary-supply application", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "现场勘查", "Site survey", "survey", "marketing", clock=PLAN),
    act("C", 3, 4, 1, 1, "临时供电方案答复", "Temporary supply-plan reply", "design", "marketing", clock=PLAN, milestone="plan_approved"),
    act("D", 4, 5, 2, None, "缴纳业务费用及临时接电费", "Pay the fees and the temporary connection charge", "fees", "marketing", party=CUSTOMER, milestone="fees_settled"),
    act("E", 4, 6, 3, None, "客户临时用电设施安装", "Customer's temporary installation", "construction", None, party=CUSTOMER),
    dummy(5, 6),
    act("F", 6, 7, 1, 1, "临时供用电合同签订", "Sign the temporary supply contract", "energization", "marketing", clock=ENERGIZE, milestone="contract_signed"),
    act("G", 7, 8, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

TEMPORARY_HV = [
    act("A", 1, 2, 1, 1, "受理临时用电申请", "Accept the temporary-supply application", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 2, 1, "现场勘查", "Site survey", "survey", "marketing", clock=PLAN),
    act("C", 3, 4, 2, 1, "临时供电方案编制", "Temporary supply-plan drafting", "design", "planning", clock=PLAN),
    act("D", 4, 5, 1, 1, "临时供电方案答复", "Temporary supply-plan reply", "design", "marketing", clock=PLAN, milestone="plan_approved"),
    act("E", 5, 6, 3, None, "缴纳业务费用及临时接电费", "Pay the fees and the temporary connection charge", "fees", "marketing", party=CUSTOMER, milestone="fees_settled"),
    act("F", 5, 7, 10, None, "客户临时受电设施施工", "Customer's temporary installation", "construction", None, party=CUSTOMER),
    dummy(6, 7),
    act("G", 7, 8, 2, 1, "临时受电设施检验", "Inspection of the temporary installation", "construction", "operations", clock=COMPLETION, milestone="completion_inspection"),
    act("H", 8, 9, 1, 1, "临时供用电合同签订", "Sign the temporary supply contract", "energization", "marketing", clock=ENERGIZE, milestone="contract_signed"),
    act("I", 9, 10, 1, 1, "装表接电", "Metering and energization", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

CAPACITY_REDUCTION = [
    act("A", 1, 2, 1, 1, "受理减容申请", "Accept the capacity-reduction application", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 2, 1, "现场核查", "Site check", "survey", "marketing", clock=PLAN),
    act("C", 3, 4, 1, 1, "减容方案答复", "Capacity-reduction reply", "design", "marketing", clock=PLAN, milestone="plan_approved"),
    act("D", 4, 5, 1, 1, "供用电合同变更", "Amend the supply contract", "energization", "marketing", clock=ENERGIZE, milestone="contract_signed"),
    act("E", 5, 6, 1, 1, "变压器封停及计量装置更换", "Seal the transformers and change the metering", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]

SUSPENSION = [
    act("A", 1, 2, 1, 1, "受理暂停申请", "Accept the suspension application", "consultation", "marketing", clock=PLAN),
    act("B", 2, 3, 1, 1, "现场核查", "Site check", "survey", "marketing", clock=PLAN),
    act("C", 3, 4, 1, 1, "变压器封停及抄表", "Seal the transformers and read the meter", "energization", "metering", clock=ENERGIZE, milestone="energized"),
]


def relocation(rows):
    """Return a new connection's ``rows`` with the removal of the meter at the old address
    beside the final energization: same tail, an event of its own, a dummy to the end."""
    last = rows[-1]
    end = max(row["head"] for row in rows)
    removal = act("Z", last["tail"], end + 1, 1, 1, "旧址拆表销户", "Remove the meter at the old address", "energization", "metering")
    return [*rows, removal, dummy(end + 1, end)]


TEMPLATES = [
    # code, name, business types, customer class, voltage classes, rows
    ("temporary-lv", "低压临时用电", ["temporary"], "lv_non_residential", ["0.4kV"], TEMPORARY_LV),
    ("temporary-hv-single", "高压临时用电 10kV/35kV", ["temporary"], "hv_single", ["10kV", "35kV"], TEMPORARY_HV),
    ("relocation-lv-non-residential", "低压非居民迁址", ["relocation"], "lv_non_residential", ["0.4kV"], relocation(base.LV_NON_RESIDENTIAL)),
    ("relocation-hv-single-10kv", "高压单电源 10kV 迁址", ["relocation"], "hv_single", ["10kV"], relocation(base.HV_SINGLE_10KV)),
    ("relocation-hv-dual-10kv", "高压双电源 10kV 迁址", ["relocation"], "hv_dual", ["10kV"], relocation(base.HV_DUAL_10KV)),
    ("relocation-hv-single-35kv-above", "高压单电源 35kV 及以上迁址", ["relocation"], "hv_single", ["35kV", "110kV", "220kV"], relocation(base.HV_35KV_AND_ABOVE)),
    ("relocation-hv-dual-35kv-above", "高压双电源 35kV 及以上迁址", ["relocation"], "hv_dual", ["35kV", "110kV", "220kV"], relocation(base.HV_35KV_AND_ABOVE)),
    ("capacity-reduction-hv-single", "高压单电源减容", ["capacity_reduction"], "hv_single", HV_ALL, CAPACITY_REDUCTION),
    ("capacity-reduction-hv-dual", "高压双电源减容", ["capacity_reduction"], "hv_dual", HV_ALL, CAPACITY_REDUCTION),
    ("suspension-hv-single", "高压单电源暂停", ["suspension"], "hv_single", HV_ALL, SUSPENSION),
    ("suspension-hv-dual", "高压双电源暂停", ["suspension"], "hv_dual", HV_ALL, SUSPENSION),
]


def load(apps, schema_editor):
    NetworkTemplate = apps.get_model("scheduling", "NetworkTemplate")
    ActivityTemplate = apps.get_model("scheduling", "ActivityTemplate")
    Department = apps.get_model("accounts", "Department")
    departments = {d.code: d for d in Department.objects.all()}
    for code, name, business_types, customer_class, voltages, rows in TEMPLATES:
        if NetworkTemplate.objects.filter(code=code).exists():
            continue
        rows = [dict(row) for row in rows]
        numbers = fulkerson_numbers((row["tail"], row["head"]) for row in rows)
        template = NetworkTemplate.objects.create(
            code=code,
            version=1,
            name=name,
            business_types=business_types,
            customer_class=customer_class,
            voltage_classes=voltages,
            is_active=True,
        )
        for order, row in enumerate(rows, start=1):
            department = row.pop("department", None)
            row["tail"], row["head"] = numbers[row["tail"]], numbers[row["head"]]
            ActivityTemplate.objects.create(
                template=template,
                sort_order=order * 10,
                department=departments.get(department) if department else None,
                **row,
            )


def unload(apps, schema_editor):
    NetworkTemplate = apps.get_model("scheduling", "NetworkTemplate")
    NetworkTemplate.objects.filter(
        code__in=[code for code, *_rest in TEMPLATES], applications__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0017_activity_lead"),
        ("accounts", "0002_departments"),
        ("applications", "0015_business_type_reduction_suspension"),
    ]

    operations = [migrations.RunPython(load, unload)]
