"""Vocabulary shared by several apps (kept here so no app imports another for it)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VoltageClass(models.TextChoices):
    LV_0_4 = "0.4kV", _("0.4 kV (low voltage)")
    KV_10 = "10kV", _("10 kV")
    KV_35 = "35kV", _("35 kV")
    KV_110 = "110kV", _("110 kV")
    KV_220 = "220kV", _("220 kV")
