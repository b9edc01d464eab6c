"""Vocabulary shared by several apps (kept here so no app imports another for it)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VoltageClass(models.TextChoices):
    LV_0_4 = "0.4kV", _("0.4 kV (low voltage)")
    KV_10 = "10kV", _("10 kV")
    KV_35 = "35kV", _("35 kV")
    KV_110 = "110kV", _("110 kV")
    KV_220 = "220kV", _("220 kV")


class CustomerClass(models.TextChoices):
    """Customer classes of the service commitments (TIME_LIMITS.md)."""

    RESIDENTIAL = "residential", _("Residential")
    LV_NON_RESIDENTIAL = "lv_non_residential", _("Low-voltage non-residential")
    HV_SINGLE = "hv_single", _("High voltage, single source")
    HV_DUAL = "hv_dual", _("High voltage, dual source")


class BusinessType(models.TextChoices):
    NEW = "new", _("New connection")
    CAPACITY_INCREASE = "capacity_increase", _("Capacity increase")
    TEMPORARY = "temporary", _("Temporary supply")
    RELOCATION = "relocation", _("Relocation")
    CAPACITY_REDUCTION = "capacity_reduction", _("Capacity reduction")
    SUSPENSION = "suspension", _("Supply suspension")


class Stage(models.TextChoices):
    """The work stages of an application, in order (DESIGN.md §3)."""

    CONSULTATION = "consultation", _("Consultation")
    SURVEY = "survey", _("Site survey")
    DESIGN = "design", _("Supply-plan design and review")
    FEES = "fees", _("Fees")
    CONSTRUCTION = "construction", _("Customer construction and inspections")
    ENERGIZATION = "energization", _("Metering and energization")


class Party(models.TextChoices):
    """Whose time an activity takes: customer-side time does not count against the utility."""

    UTILITY = "utility", _("Utility")
    CUSTOMER = "customer", _("Customer")


class Clock(models.TextChoices):
    """The time-limit clocks of TIME_LIMITS.md; the whole process is the sum of them."""

    PLAN_REPLY = "plan_reply", _("Supply-plan reply")
    DESIGN_REVIEW = "design_review", _("Customer design review")
    INTERMEDIATE_INSPECTION = "intermediate_inspection", _("Intermediate inspection")
    COMPLETION_INSPECTION = "completion_inspection", _("Completion inspection")
    ENERGIZATION = "energization", _("Metering and energization")


# Clock.values builds its list anew on every read; the sweep reads it per application.
CLOCKS = tuple(Clock.values)

WHOLE_PROCESS = "whole_process"


class Milestone(models.TextChoices):
    """Activities whose finish a stage guard asks for by meaning, not by code."""

    PLAN_APPROVED = "plan_approved", _("Supply plan passed review")
    FEES_SETTLED = "fees_settled", _("Fees settled")
    COMPLETION_INSPECTION = "completion_inspection", _("Completion inspection passed")
    CONTRACT_SIGNED = "contract_signed", _("Supply contract signed")
    ENERGIZED = "energized", _("Supply energized")


class DocumentKind(models.TextChoices):
    APPLICATION_FORM = "application_form", _("Application form")
    LICENCE = "licence", _("Business licence")
    IDENTITY = "identity", _("Identity of the legal representative or power of attorney")
    PROPERTY = "property", _("Proof of property or lease of the supply address")
    LOAD_LIST = "load_list", _("List of electrical equipment and loads")
    PROJECT_APPROVAL = "project_approval", _("Project approval or filing")
    SURVEY_REPORT = "survey_report", _("Site survey report")
    SUPPLY_PLAN = "supply_plan", _("Supply plan")
    DESIGN_DRAWINGS = "design_drawings", _("Design drawings")
    INSPECTION_REPORT = "inspection_report", _("Inspection report")
    COMPLETION_REPORT = "completion_report", _("Completion report of the customer's works")
    CONTRACT = "contract", _("Supply contract")
