"""Demo applications: a realistic, reproducible history of service connections (DESIGN §8).

``manage.py seed_demo --applications N`` calls :func:`demo_applications_load` after loading
the demo people. Nothing else calls it; migrations never create applications.

Reproducible: every application is drawn by its own ``random.Random``, seeded from the run's
seed and the application's serial (the number of applications already in the database plus
its position in the run), and every date is counted in working days back from ``today``.
The same seed, ``today`` and starting database give the same rows, timestamps included; only
primary keys may differ. The clock is never read.

How one application is drawn: a template (by customer class and voltage class), a target
state, a delay for every activity (mostly none, some a day or two, a few large ones, a few
early finishes), review meetings held on the meeting weekday unless one is convened for the
case, the lag before the account manager moves the stage on, and now and then a suspension
the customer asked for. The activities are then scheduled in network order from day 0 (none
starts before its predecessors finish). The stage transitions follow the model's own guards:
the transition out of a stage happens once the activities its guards ask for have finished,
which is found once per template by asking the guards. Day 0 is then placed so that, at the
end of ``today`` (of the last working day up to it), the application is in its target state.
Only what has happened by then is stored, with its log rows, progress records and forecast.

Fast enough for 100,000 applications: each template is compiled once and its baseline
evaluated once per day 0 (the review meetings wait for a weekday, so the plan in working
days is shared by the applications accepted on one day), a
working day is an index into one list of dates, the forecast is one engine call per
application, and rows are written in chunks of applications, one transaction each:
customers and applications with ``bulk_create``, the many rows hanging off them with
``COPY`` (PostgreSQL) or ``executemany`` from values prepared once
(:class:`yekuo.bulk.RowWriter`), each through the services of the app that owns them.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
import queue
import random
import time
import traceback
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from types import SimpleNamespace
from typing import NamedTuple

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AccountManagerProfile, Region, User
from accounts.roles import Role
from applications import selectors
from applications import services as application_services
from applications.assignment import manager_weighted_loads
from applications.credit_code import check_character
from applications.models import (
    STAGE_ORDER,
    WORK_STATES,
    Application,
    ApplicationState,
    Customer,
    SupplyType,
)
from scheduling import cpm
from scheduling import selectors as schedule_selectors
from scheduling import services as schedule_services
from scheduling.models import Activity, NetworkTemplate
from yekuo import bulk
from yekuo.domain import BusinessType, CustomerClass, Party, VoltageClass
from yekuo.lookups import any_of

from .people import (
    DEMO_USERS,
    PROVINCE_PREFIX,
    PROVINCE_UTILISATION,
    REGIONS,
    province_managers_load,
    province_managers_needed,
)

S = ApplicationState

DEFAULT_SEED = 2026
# Applications per transaction: about 20 activities, 25 progress records and 6 log rows
# each, so a chunk holds some 50,000 model instances (tens of MB) before it is written.
CHUNK_SIZE = 1000

# --- What the data set looks like -------------------------------------------------------------

# The share of each state, in per cent. Closed ones are the history the KPIs read.
STATE_WEIGHTS = {
    S.CONSULTATION: 6,
    S.SURVEY: 5,
    S.DESIGN: 9,
    S.FEES: 4,
    S.CONSTRUCTION: 22,
    S.ENERGIZATION: 4,
    S.ENERGIZED: 6,
    S.CLOSED: 36,
    S.SUSPENDED: 4,
    S.CANCELLED: 4,
}
# Customer class and voltage class, with their weight: most connections are low voltage or
# 10 kV; 110 kV and 220 kV ones are rare and large.
CLASS_WEIGHTS = [
    (CustomerClass.LV_NON_RESIDENTIAL, VoltageClass.LV_0_4, 34),
    (CustomerClass.HV_SINGLE, VoltageClass.KV_10, 34),
    (CustomerClass.HV_SINGLE, VoltageClass.KV_35, 7),
    (CustomerClass.HV_SINGLE, VoltageClass.KV_110, 3),
    (CustomerClass.HV_SINGLE, VoltageClass.KV_220, 1),
    (CustomerClass.HV_DUAL, VoltageClass.KV_10, 12),
    (CustomerClass.HV_DUAL, VoltageClass.KV_35, 5),
    (CustomerClass.HV_DUAL, VoltageClass.KV_110, 3),
    (CustomerClass.HV_DUAL, VoltageClass.KV_220, 1),
]
# Business types, with their weight where a template plans them: mostly new connections and
# increases; temporary supply, relocation, reduction and suspension now and then.
BUSINESS_WEIGHTS = [
    (BusinessType.NEW, 58),
    (BusinessType.CAPACITY_INCREASE, 27),
    (BusinessType.TEMPORARY, 5),
    (BusinessType.RELOCATION, 4),
    (BusinessType.CAPACITY_REDUCTION, 4),
    (BusinessType.SUSPENSION, 2),
]
# New applications nobody has picked up yet: the supervisors' unassigned queue. A share of
# the consultation ones, about 2 % of all.
UNASSIGNED_SHARE_OF_NEW = 0.3
TROUBLED_SHARE = 0.1
PAST_SUSPENSION_SHARE = 0.06
CANCELLED_AFTER_SUSPENSION_SHARE = 0.3
# The largest capacity the profile stores (a PositiveSmallIntegerField).
MAX_CAPACITY = 32767

# A review meeting convened for one application instead of waiting for the weekly one.
AD_HOC_MEETING_SHARE = 0.15
# What an activity really takes, by who does it: a log-normal over working days whose median
# is the planned duration times a factor (a bias the templates do not know of), with the
# standard deviation of its log, rounded to whole days of at least one. Every duration of the
# demo is drawn from these and nothing else shortens or lengthens it, so the learned
# durations (scheduling.learning) have a known truth to recover: design and review run over
# their plan, grid construction and customers' own works under it (their plans are
# generous), and customers vary most.
CUSTOMER_SIDE = "customer"
DURATION_TRUTH = {
    "marketing": (1.0, 0.15),
    "planning": (1.15, 0.2),
    "operations": (1.0, 0.2),
    "construction": (0.8, 0.25),
    "metering": (1.0, 0.2),
    "dispatch": (1.0, 0.2),
    CUSTOMER_SIDE: (0.8, 0.3),
}
# Utility work of a department not listed above.
DEFAULT_TRUTH = (1.0, 0.25)
MEETING_SEARCH_DAYS = 15
YEARS_BACK = 4

STATE_TRANSITIONS = {"suspend", "resume", "cancel"}

CITIES = [
    # name prefix, registration region code (None: the district of the address), weight
    ("杭州", None, 60),
    ("浙江", "330000", 8),
    ("宁波", "330212", 5),
    ("温州", "330302", 4),
    ("嘉兴", "330402", 4),
    ("湖州", "330502", 3),
    ("绍兴", "330602", 4),
    ("金华", "330702", 3),
    ("台州", "331002", 3),
    ("上海", "310115", 3),
    ("江苏", "320000", 3),
]
# The districts of the demo utility's service regions, with their administrative codes.
REGION_PLACES = {
    "east": [("上城区", "330102"), ("钱塘区", "330114")],
    "west": [("西湖区", "330106"), ("余杭区", "330110")],
    "hitech": [("滨江区", "330108")],
    "devzone": [("钱塘区", "330114"), ("萧山区", "330109")],
    "county": [("桐庐县", "330122"), ("淳安县", "330127"), ("建德市", "330182")],
}
OTHER_PLACES = [("拱墅区", "330105")]
ROADS = [
    "文三路",
    "学院路",
    "江南大道",
    "滨盛路",
    "之江路",
    "秋涛路",
    "解放东路",
    "文一西路",
    "余杭塘路",
    "五常大道",
    "海达南路",
    "六号大街",
    "十一号大街",
    "下沙路",
    "迎春南路",
    "富春路",
    "新安大街",
    "江滨东大道",
    "机场路",
    "建设三路",
    "市心北路",
    "通惠南路",
    "东宁路",
    "天目山路",
    "古墩路",
    "莫干山路",
    "石祥路",
    "德胜路",
    "望江路",
    "钱江路",
]
WORD_FIRST = "华恒瑞鑫宏泰盛嘉博正中天永金隆兴信安凯亚德源明鼎新远立昌汇联"
WORD_SECOND = "达宇通丰源泰成创美康力晟邦顺辉科盈拓诚峰腾航润欣越益瑞和"
INDUSTRIES_LV = [
    ("餐饮管理", "餐饮业"),
    ("商贸", "批发业"),
    ("超市", "零售业"),
    ("文化传媒", "文化艺术业"),
    ("健身服务", "体育"),
    ("汽车服务", "机动车、电子产品和日用产品修理业"),
    ("印务", "印刷和记录媒介复制业"),
    ("烘焙食品", "食品制造业"),
    ("茶业", "零售业"),
    ("教育科技", "教育"),
    ("物业管理", "房地产业"),
    ("五金制品", "金属制品业"),
    ("服饰", "纺织服装、服饰业"),
    ("酒店管理", "住宿业"),
]
INDUSTRIES_HV = [
    ("精密制造", "通用设备制造业"),
    ("新材料", "化学原料和化学制品制造业"),
    ("数据科技", "互联网和相关服务"),
    ("物流", "装卸搬运和仓储业"),
    ("医药", "医药制造业"),
    ("汽车零部件", "汽车制造业"),
    ("电子科技", "计算机、通信和其他电子设备制造业"),
    ("纺织", "纺织业"),
    ("食品", "食品制造业"),
    ("冷链物流", "装卸搬运和仓储业"),
    ("环保科技", "生态保护和环境治理业"),
    ("新能源科技", "电气机械和器材制造业"),
    ("钢结构", "金属制品业"),
    ("置业", "房地产业"),
    ("商业管理", "商务服务业"),
    ("智能装备", "专用设备制造业"),
    ("包装材料", "橡胶和塑料制品业"),
    ("生物科技", "医药制造业"),
]
INDUSTRIES_EHV = [
    ("特钢", "黑色金属冶炼和压延加工业"),
    ("石化", "石油、煤炭及其他燃料加工业"),
    ("数据中心", "互联网和相关服务"),
    ("硅业", "非金属矿物制品业"),
    ("水泥", "非金属矿物制品业"),
    ("铝业", "有色金属冶炼和压延加工业"),
    ("半导体", "计算机、通信和其他电子设备制造业"),
    ("锂电", "电气机械和器材制造业"),
    ("化纤", "化学纤维制造业"),
]
SUFFIXES_HV = [("有限公司", 75), ("股份有限公司", 15), ("集团有限公司", 10)]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉萍红玲芬燕彬斌鹏辉"
    "波宁浩凯健俊帆旭宇晨欣怡婷雪琳晶妍佳琪梦雨文博志豪嘉然轩远"
)
MOBILE_PREFIXES = [
    *(f"13{d}" for d in "012356789"),
    *(f"15{d}" for d in "0125679"),
    *(f"18{d}" for d in "0123679"),
    "177",
    "199",
]
CAPACITIES = {
    # voltage class: (unit sizes in kVA, most units)
    VoltageClass.LV_0_4: ((30, 50, 63, 80, 100, 125, 160, 200, 250), 1),
    VoltageClass.KV_10: ((250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000, 2500), 4),
    VoltageClass.KV_35: ((5000, 6300, 8000, 10000, 12500, 16000, 20000), 2),
    VoltageClass.KV_110: ((31500, 40000, 50000, 63000), 2),
    VoltageClass.KV_220: ((120000, 150000, 180000, 240000), 2),
}
SUSPEND_NOTES = [
    "客户资金未到位，申请暂缓办理",
    "客户用电项目规划调整，暂停报装",
    "客户受电工程停工待料",
    "客户厂房土建延期，申请暂停",
    "客户内部审批未完成，申请暂缓",
]
RESUME_NOTES = ["客户资金到位，恢复办理", "客户确认项目继续，恢复办理", "客户受电工程复工"]
CANCEL_REASONS = [
    "客户项目取消，撤回用电申请",
    "客户选址变更，原申请作废",
    "客户改由园区公用变供电",
    "用电需求变更，客户将重新申请",
    "客户长期未恢复办理，经确认撤销申请",
]
FINDINGS = [
    "",
    "",
    "送电及时，客户满意。",
    "现场施工规范，资料齐全。",
    "设计审查一次通过。",
    "客户反映缴费流程可进一步简化。",
    "配套工程略有延误，已向客户说明原因。",
    "客户对一对一服务评价较高。",
]
SCORES_ON_TIME = [(5, 55), (4, 33), (3, 9), (2, 2), (1, 1)]
SCORES_LATE = [(5, 25), (4, 40), (3, 25), (2, 7), (1, 3)]

# The times of day the demo history uses: progress is recorded in the morning, stages move
# in the afternoon (after the work their guards ask for), so a day's log reads in order.
ACCEPTED_AT = (8, 0)
RESUMED_AT = (8, 25)
STARTED_AT = (8, 30)
FINISHED_AT = (10, 0)
REVIEWED_AT = (11, 45)
MOVED_AT = (13, 0)


class DemoDataError(Exception):
    """Raise when the database cannot hold the demo applications (no template, no calendar)."""


# --- Working days as list indexes -------------------------------------------------------------


class _WorkingDays:
    """The working days from a few years before ``today`` on, as one sorted list.

    Day 0 of an application is an index into this list and an offset of k working days is
    index + k, so the generator never searches the calendar. The list grows by whole years
    when a forecast reaches past its end.
    """

    def __init__(self, calendar, today: date) -> None:
        self._calendar = calendar
        self.dates: list[date] = []
        self.weekdays: list[int] = []
        self._next = date(today.year - YEARS_BACK, 1, 1)
        self._extend_to(date(today.year + 1, 12, 31))
        # The history ends with the last working day up to today (the as-of point is the end
        # of today, as for schedule_reforecast); ``today`` is the first working day from it.
        self.cutoff = bisect_right(self.dates, today) - 1
        self.today = bisect_left(self.dates, today)

    def _extend_to(self, last: date) -> None:
        day, one, is_working = self._next, timedelta(days=1), self._calendar.is_working_day
        while day <= last:
            if is_working(day):
                self.dates.append(day)
                self.weekdays.append(day.weekday())
            day += one
        self._next = day

    def date(self, index: int) -> date:
        try:
            return self.dates[index]
        except IndexError:
            while index >= len(self.dates):
                self._extend_to(date(self._next.year, 12, 31))
            return self.dates[index]

    def meeting_day(self, index: int, weekday: int, *, ad_hoc: bool) -> int:
        """Return the index of the first meeting day on or after ``index``.

        ``ad_hoc``: when the weekly meeting is two or more working days away, one is
        convened on ``index`` itself.
        """
        self.date(index + MEETING_SEARCH_DAYS)
        weekdays = self.weekdays
        for step in range(MEETING_SEARCH_DAYS):
            if weekdays[index + step] == weekday:
                return index if step >= 2 and ad_hoc else index + step
        return index


# --- One template, prepared once ---------------------------------------------------------------


@dataclass(frozen=True)
class _Exit:
    """The forward transition out of a state and the activities its guards ask for."""

    name: str
    source: str
    target: str
    required: tuple[int, ...]


@dataclass(frozen=True)
class _TemplatePlan:
    """A template compiled and evaluated once, with what the generator needs of it.

    Activities are addressed by their position in ``ids`` (the engine's order).
    """

    template: NetworkTemplate
    rows: tuple  # every template row, dummies too, in the order application_create copies
    compiled: cpm.CompiledNetwork
    ids: tuple[str, ...]
    order: tuple[int, ...]  # a topological order
    preds: tuple[tuple[tuple[int, int], ...], ...]
    durations: tuple[int, ...]
    is_customer: tuple[bool, ...]
    truths: tuple[tuple[float, float], ...]  # what each takes (duration_truth)
    meetings: tuple[int | None, ...]  # the meeting weekday of a review meeting, else None
    departments: tuple[str | None, ...]
    exits: tuple[_Exit, ...]
    holds: tuple[int, ...]  # customer work a suspension may hold up
    baseline: cpm.Schedule  # without meeting days: a first guess of the timeline's length
    network: dict


def _topological(preds) -> tuple[int, ...]:
    succs: list[list[int]] = [[] for _ in preds]
    waiting = [len(links) for links in preds]
    for activity, links in enumerate(preds):
        for pred, _lag in links:
            succs[pred].append(activity)
    ready = [activity for activity, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        activity = heapq.heappop(ready)
        order.append(activity)
        for succ in succs[activity]:
            waiting[succ] -= 1
            if waiting[succ] == 0:
                heapq.heappush(ready, succ)
    return tuple(order)


def _guards_refuse(transition, source: str, rows, unfinished: str | None) -> bool:
    """Ask the transition's own guards whether they refuse when only ``unfinished`` is open."""
    activities = [
        SimpleNamespace(
            code=row.code,
            name=row.name,
            stage=row.stage,
            is_dummy=row.is_dummy,
            milestone=row.milestone,
            actual_finish=None if row.is_dummy or row.code == unfinished else date.min,
        )
        for row in rows
    ]
    # The demo's applications are filed without a one-time notice: no document holds them.
    application = SimpleNamespace(
        state=source, activities=SimpleNamespace(all=lambda: activities), document_checklist=[]
    )
    return not all(condition(application) for condition in transition.conditions)


def _exits(template: NetworkTemplate, rows, ids) -> tuple[_Exit, ...]:
    """Return the transitions from consultation to energized and what each waits for.

    The guards are asked once per activity (is the transition refused while only this one
    is open?), so the demo follows whatever the stage machine requires.
    """
    exits = []
    for source, target in zip(STAGE_ORDER, STAGE_ORDER[1:], strict=False):
        if target == S.CLOSED:
            break
        transition = next(
            t
            for t in Application(state=source).get_all_state_transitions()
            if t.source == source and t.target == target
        )
        if _guards_refuse(transition, source, rows, unfinished=None):
            raise DemoDataError(
                f"the template {template} can never pass “{transition.name}”: its guards "
                "refuse even with every activity finished"
            )
        required = tuple(
            position
            for position, code in enumerate(ids)
            if _guards_refuse(transition, source, rows, unfinished=code)
        )
        exits.append(_Exit(transition.name, str(source), str(target), required))
    return tuple(exits)


def _template_plan(template: NetworkTemplate) -> _TemplatePlan:
    rows = tuple(template.activities.select_related("department").order_by("sort_order", "id"))
    compiled = schedule_selectors.template_compile(template)
    baseline = compiled.evaluate()
    ids = compiled.ids
    by_code = {row.code: row for row in rows if not row.is_dummy}
    preds = tuple(
        tuple((compiled.index[link.id], link.lag) for link in compiled.predecessors(code))
        for code in ids
    )
    meetings = tuple(
        (
            by_code[code].meeting_weekday
            if by_code[code].meeting_weekday is not None
            else settings.REVIEW_MEETING_WEEKDAY
        )
        if by_code[code].kind == "meeting"
        else None
        for code in ids
    )
    is_customer = tuple(by_code[code].party == Party.CUSTOMER for code in ids)
    meeting_codes = [
        code for code, weekday in zip(ids, meetings, strict=True) if weekday is not None
    ]
    # A suspension holds up customer work that follows every review meeting, so that the
    # pause never moves a meeting off its weekday.
    after_meetings = [
        position
        for position, code in enumerate(ids)
        if preds[position] and all(code in compiled.descendants(m) for m in meeting_codes)
    ]
    holds = tuple(p for p in after_meetings if is_customer[p]) or tuple(after_meetings)
    return _TemplatePlan(
        template=template,
        rows=rows,
        compiled=compiled,
        ids=ids,
        order=_topological(preds),
        preds=preds,
        durations=tuple(by_code[code].duration for code in ids),
        is_customer=is_customer,
        truths=tuple(
            duration_truth(
                by_code[code].department.code if by_code[code].department_id else None,
                customer=by_code[code].party == Party.CUSTOMER,
            )
            for code in ids
        ),
        meetings=meetings,
        departments=tuple(
            by_code[code].department.code if by_code[code].department_id else None for code in ids
        ),
        exits=_exits(template, rows, ids),
        holds=holds,
        baseline=baseline,
        network=schedule_selectors.network_data(rows),
    )


@dataclass(frozen=True)
class _Planned:
    """The plan of a template's applications with one day 0: the meeting days depend on it."""

    committed: int
    baseline: cpm.Schedule
    meetings: dict
    schedule: object  # the baseline's schedule JSON, prepared for the database


# --- One application: draws, timeline, placement ----------------------------------------------


def _weighted(rng: random.Random, pairs):
    values = [value for value, _weight in pairs]
    return rng.choices(values, weights=[weight for _value, weight in pairs])[0]


def duration_truth(department: str | None, *, customer: bool) -> tuple[float, float]:
    """Return the (median factor, spread) the demo draws an activity's duration from."""
    if customer:
        return DURATION_TRUTH[CUSTOMER_SIDE]
    return DURATION_TRUTH.get(department or "", DEFAULT_TRUTH)


def _actual_duration(rng, planned: int, truth: tuple[float, float]) -> int:
    """Return the working days an activity takes, drawn from its ``truth``."""
    if not planned:
        return 0
    factor, spread = truth
    return max(1, round(planned * factor * math.exp(rng.gauss(0.0, spread))))


def _start_wait(rng, customer: bool, troubled: bool) -> int:
    """Return the working days between an activity being ready and starting."""
    r = rng.random()
    if troubled:
        r = r * 0.8 + 0.2
    if customer:
        return 0 if r < 0.94 else rng.randint(1, 3) if r < 0.99 else rng.randint(4, 8)
    return 0 if r < 0.98 else 1 if r < 0.995 else 2


def _stage_lag(rng) -> int:
    """Return the working days before the account manager moves a finished stage on."""
    r = rng.random()
    return 0 if r < 0.6 else 1 if r < 0.9 else rng.randint(2, 3)


@dataclass
class _Timeline:
    """The whole life of one application in working-day offsets from its day 0."""

    start: list[int]
    finish: list[int]
    moves: list[int]  # the day of each forward transition (plan.exits), the last is energize
    review: int
    close: int
    pause: tuple[int, int] | None  # a past suspension: (suspended on, resumed on)


@dataclass
class _History:
    """What had happened to one application by the end of the cutoff day."""

    g: int  # the list index of day 0
    recorded: int  # activities recorded before this offset
    start: list[int]
    finish: list[int]
    transitions: list[tuple[int, tuple[int, int], str, str, str, str]]  # day, time, name...
    state: str
    suspended_from: str
    review: int | None
    as_of: int


class _Draft:
    """The random part of one application: everything drawn before it has dates.

    Nothing here depends on where day 0 falls, so placing day 0 (which tries several
    positions) never changes what was drawn.
    """

    def __init__(self, rng: random.Random, plan: _TemplatePlan, target: str) -> None:
        self.plan = plan
        self.target = target
        troubled = rng.random() < TROUBLED_SHARE
        self.troubled = troubled
        self.durations = [
            _actual_duration(rng, d, truth)
            for d, truth in zip(plan.durations, plan.truths, strict=True)
        ]
        self.waits = [_start_wait(rng, c, troubled) for c in plan.is_customer]
        self.ad_hoc = [rng.random() < AD_HOC_MEETING_SHARE for _ in plan.ids]
        # Energization is recorded the day the meter is connected; other stages wait for
        # the account manager to move them on.
        self.lags = [0 if exit_.name == "energize" else _stage_lag(rng) for exit_ in plan.exits]
        self.review_lag = rng.randint(1, 8)
        self.close_lag = rng.choice((0, 0, 1, 2, 3))
        self.position = rng.random()
        self.unassigned = target == S.CONSULTATION and rng.random() < UNASSIGNED_SHARE_OF_NEW
        if self.unassigned:
            self.age = rng.randint(0, 2)
        elif target == S.CLOSED:
            self.age = rng.randint(0, 250)
        elif target == S.CANCELLED:
            self.age = rng.randint(0, 200)
        elif target == S.SUSPENDED:
            self.age = rng.randint(0, 30)
        else:
            self.age = 0
        may_pause = plan.holds and target not in (S.SUSPENDED, S.CANCELLED, S.CONSULTATION)
        self.past_hold = (
            rng.choice(plan.holds) if may_pause and rng.random() < PAST_SUSPENSION_SHARE else None
        )
        self.past_length = rng.randint(3, 25)
        self.hold = rng.choice(plan.holds) if plan.holds else None
        self.cancel_position = rng.random()
        self.cancel_suspended = rng.random() < CANCELLED_AFTER_SUSPENSION_SHARE
        self.cancel_after = rng.randint(5, 40)
        self.minute = rng.randrange(60)

    # The timeline for day 0 at list index g.

    def timeline(self, g: int, days: _WorkingDays, *, past: bool) -> _Timeline:
        plan = self.plan
        n = len(plan.ids)
        start, finish, ef = [0] * n, [0] * n, [0] * n
        durations, waits, meetings, preds = self.durations, self.waits, plan.meetings, plan.preds
        for i in plan.order:
            ready = 0
            for pred, lag in preds[i]:
                if ef[pred] + lag > ready:
                    ready = ef[pred] + lag
            day = ready + waits[i]
            if meetings[i] is not None:
                day = days.meeting_day(g + day, meetings[i], ad_hoc=self.ad_hoc[i]) - g
            duration = durations[i]
            start[i] = day
            ef[i] = day + duration
            finish[i] = day + duration - 1 if duration else day
        moves, day = [], 0
        for exit_, lag in zip(plan.exits, self.lags, strict=True):
            if exit_.required:
                day = max(day, max(finish[i] for i in exit_.required) + lag)
            else:
                day += lag
            moves.append(day)
        review = moves[-1] + self.review_lag
        close = review + self.close_lag
        pause = None
        if past and self.past_hold is not None:
            # The customer asked to pause before its own work began: everything from that
            # day on happens past_length working days later.
            held, length = start[self.past_hold], self.past_length
            start = [d + length if d >= held else d for d in start]
            finish = [d + length if d >= held else d for d in finish]
            moves = [d + length if d >= held else d for d in moves]
            review, close = review + length, close + length
            pause = (held, held + length)
        return _Timeline(start, finish, moves, review, close, pause)

    def _settled(self, g: int, days: _WorkingDays) -> _Timeline:
        """Return the timeline, without the past suspension unless it ended by the cutoff."""
        timeline = self.timeline(g, days, past=True)
        if timeline.pause is not None and timeline.pause[1] > days.cutoff - g:
            timeline = self.timeline(g, days, past=False)
        return timeline

    def _suspension_day(self, timeline: _Timeline) -> int:
        if self.hold is not None:
            return timeline.start[self.hold]
        return 1 + int(self.position * max(timeline.moves[-1] - 1, 1))

    def _cancel_day(self, timeline: _Timeline) -> int:
        return 1 + int(self.cancel_position * max(timeline.moves[-1] - 1, 1))

    def _anchor(self, timeline: _Timeline) -> int:
        """Return the offset that must fall ``age`` working days before the cutoff."""
        target, moves = self.target, timeline.moves
        if self.unassigned:
            return 0
        if target in WORK_STATES:
            k = WORK_STATES.index(target)
            enter = moves[k - 1] if k else 0
            return enter + int(self.position * (moves[k] - enter))
        if target == S.ENERGIZED:
            return moves[-1] + int(self.position * (timeline.close - moves[-1]))
        if target == S.CLOSED:
            return timeline.close
        if target == S.SUSPENDED:
            return self._suspension_day(timeline)
        cancel = self._cancel_day(timeline)
        return cancel + (self.cancel_after if self.cancel_suspended else 0)

    def place(self, days: _WorkingDays) -> int:
        """Return the list index of day 0: the latest one that puts the anchor in place.

        Only review meetings make the timeline depend on day 0 (they wait for a weekday),
        so a few steps from a first guess find it.
        """
        limit = days.cutoff - self.age
        anchors: dict[int, int] = {}

        def anchor(g: int) -> int:
            if g < 0:
                raise DemoDataError("the working-day calendar does not reach back far enough")
            if g not in anchors:
                anchors[g] = g + self._anchor(self._settled(g, days))
            return anchors[g]

        guess = max(0, limit - self.plan.baseline.duration)
        g = limit - (anchor(guess) - guess)
        for _step in range(40):
            if anchor(g) > limit:
                g -= anchor(g) - limit
            elif anchor(g + 1) <= limit:
                g += 1
            else:
                break
        anchor(g)
        return g

    def history(self, g: int, days: _WorkingDays) -> _History:
        """Return what had happened by the cutoff when day 0 is at list index ``g``."""
        timeline = self._settled(g, days)
        cutoff = days.cutoff - g
        target, moves = self.target, list(timeline.moves)
        review, close = timeline.review, timeline.close
        if target in WORK_STATES or target == S.ENERGIZED:
            # Stay in the target state at the cutoff: the account manager has not moved the
            # application on yet, though the work of the stage may be done.
            k = WORK_STATES.index(target) if target in WORK_STATES else len(moves)
            for j in range(k, len(moves)):
                moves[j] = max(moves[j], cutoff + 1)
            if k < len(moves):
                review = moves[-1] + self.review_lag
            close = max(close, review + self.close_lag, cutoff + 1)
        if self.unassigned:
            recorded = 0
        elif target == S.SUSPENDED:
            recorded = self._suspension_day(timeline)
        elif target == S.CANCELLED:
            recorded = self._cancel_day(timeline)
        else:
            recorded = cutoff + 1

        minute = self.minute
        # (day, slot in the day, name): a resume comes first in its day, stage moves in
        # their order, a suspension or cancellation last.
        events: list[tuple[int, int, str]] = [
            (day, 1, exit_.name)
            for exit_, day in zip(self.plan.exits, moves, strict=True)
            if day < recorded
        ]
        if target == S.CLOSED:
            events.append((close, 1, "close"))
        if timeline.pause is not None:
            events += [(timeline.pause[0], 2, "suspend"), (timeline.pause[1], 0, "resume")]
        if target == S.SUSPENDED:
            events.append((recorded, 2, "suspend"))
        elif target == S.CANCELLED:
            if self.cancel_suspended:
                events.append((recorded, 2, "suspend"))
                events.append((recorded + self.cancel_after, 2, "cancel"))
            else:
                events.append((recorded, 2, "cancel"))
        events.sort(key=lambda event: event[:2])  # stable: same-slot moves keep their order

        state, left = S.CONSULTATION.value, ""
        transitions = [(0, ACCEPTED_AT, "create", "", state, "")]
        targets = {exit_.name: exit_.target for exit_ in self.plan.exits}
        per_day: Counter[int] = Counter()
        for day, _slot, name in events:
            if name == "resume":
                at = RESUMED_AT
            else:
                per_day[day] += 1
                at = (MOVED_AT[0], MOVED_AT[1] + minute + 9 * per_day[day])
            if name == "suspend":
                new, left = S.SUSPENDED.value, state
            elif name == "resume":
                new, left = left, ""
            elif name == "cancel":
                new, left = S.CANCELLED.value, ""
            elif name == "close":
                new = S.CLOSED.value
            else:
                new = targets[name]
            transitions.append((day, at, name, state, new, ""))
            state = new
        last_event = max(
            [t[0] for t in transitions]
            + [d for d in timeline.start if d < recorded]
            + [d for d in timeline.finish if d < recorded]
        )
        # In a work state the forecast is as of today, as schedule_reforecast computes it;
        # otherwise as of the last change, when it was last computed.
        as_of = max(last_event + 1, days.cutoff + 1 - g) if state in WORK_STATES else last_event + 1
        return _History(
            g=g,
            recorded=recorded,
            start=timeline.start,
            finish=timeline.finish,
            transitions=transitions,
            state=state,
            suspended_from=left if state == S.SUSPENDED else "",
            review=review if target in (S.ENERGIZED, S.CLOSED) and review <= cutoff else None,
            as_of=as_of,
        )


# --- Customers ---------------------------------------------------------------------------------

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"  # the credit-code alphabet's letters


def _org_code(rng: random.Random) -> str:
    """Return an organisation code (GB 11714): eight characters and their check character."""
    if rng.random() < 0.7:
        body = "MA" + "".join(rng.choice("0123456789" + ORG_LETTERS) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    total = sum(
        (int(char) if char.isdigit() else ord(char) - 55) * weight
        for char, weight in zip(body, ORG_WEIGHTS, strict=True)
    )
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(rng: random.Random, region_code: str) -> str:
    """Return a unified social credit code of an enterprise (91) registered in the region."""
    first17 = "91" + region_code + _org_code(rng)
    return first17 + check_character(first17)


def _person(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return f"0571-8{rng.randrange(10**7):07d}"
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _customer(rng, *, voltage_class, region_code, used_codes, used_names) -> dict:
    if voltage_class == VoltageClass.LV_0_4:
        industries, suffixes = INDUSTRIES_LV, [("有限公司", 1)]
    elif voltage_class in (VoltageClass.KV_110, VoltageClass.KV_220):
        industries, suffixes = INDUSTRIES_EHV, SUFFIXES_HV
    else:
        industries, suffixes = INDUSTRIES_HV, SUFFIXES_HV
    place, place_code = rng.choice(REGION_PLACES.get(region_code, OTHER_PLACES))
    for _attempt in range(20):
        city, city_code = _weighted(rng, [((c, code), w) for c, code, w in CITIES])
        word = rng.choice(WORD_FIRST) + rng.choice(WORD_SECOND)
        industry_word, industry = rng.choice(industries)
        name = f"{city}{word}{industry_word}{_weighted(rng, suffixes)}"
        if name not in used_names and word[0] != word[1]:
            break
    used_names.add(name)
    code = credit_code(rng, city_code or place_code)
    while code in used_codes:
        code = credit_code(rng, city_code or place_code)
    used_codes.add(code)
    number = rng.randint(1, 999)
    building = f"{rng.randint(1, 12)}幢" if rng.random() < 0.4 else ""
    return {
        "name": name,
        "credit_code": code,
        "industry": industry,
        "address": f"浙江省杭州市{place}{rng.choice(ROADS)}{number}号{building}",
        "contact_name": _person(rng),
        "contact_phone": _phone(rng),
    }


def _capacity(rng: random.Random, voltage_class: str) -> int:
    units, most = CAPACITIES[voltage_class]
    return sum(rng.choice(units) for _ in range(rng.randint(1, most)))


# --- Loading -----------------------------------------------------------------------------------


# The activity columns the loader fills beyond those copied from the template.
ACTIVITY_PROGRESS = (
    "baseline_es",
    "baseline_ef",
    "baseline_tf",
    "baseline_ff",
    "baseline_start",
    "baseline_finish",
    "actual_start",
    "actual_finish",
    "forecast_start",
    "forecast_finish",
    "forecast_tf",
    "forecast_ff",
    "is_critical",
    "is_ready",
    "updated_at",
)


class _Recorded(NamedTuple):
    """What ``activity_is_ready`` reads of an activity, before its row is written."""

    code: str
    actual_start: object
    actual_finish: object


@dataclass(frozen=True)
class _Manager:
    user: User
    regions: frozenset[str]
    voltages: frozenset[str]
    capacity: int


@dataclass
class _Built:
    """One application ready to write: its rows, without the ids the writer draws."""

    customer: dict  # field name → value
    application: dict  # field name → value, but for the number and the customer
    template: int
    year: int  # of the start date, which numbers the application
    state: str
    energized: bool
    activities: list[tuple]  # template part, then the progress part (ACTIVITY_PROGRESS)
    events: list[tuple]  # (activity code, kind, day, by, at)
    transitions: list[tuple]  # (transition, from, to, by, at, note)
    baseline: tuple  # (approved by, created at)
    review: tuple | None


@dataclass
class LoadResult:
    count: int
    states: Counter
    seconds: float


class _Loader:
    """The state of one run: templates, people, the calendar, and what is taken already."""

    def __init__(self, *, seed: int, today: date) -> None:
        self.seed = seed
        self.today = today
        self.days = _WorkingDays(schedule_selectors.working_calendar(), today)
        self.serial_base = Application.objects.count()
        self.combos = self._combos()
        usernames = [u.username for u in DEMO_USERS]
        users = {u.username: u for u in User.objects.filter(username__in=usernames)}
        profiles = (
            _demo_managers(usernames)
            .select_related("user")
            .prefetch_related("regions")
            .order_by("user__username")
        )
        self.managers = [
            _Manager(
                p.user,
                frozenset(r.code for r in p.regions.all()),
                frozenset(p.voltage_classes),
                p.capacity,
            )
            for p in profiles
        ]
        self._eligible: dict[tuple[str, str], tuple[list[_Manager], list[int]]] = {}
        self.staff = {
            spec.department: users[spec.username].pk
            for spec in DEMO_USERS
            if spec.role == Role.DEPARTMENT_STAFF and spec.username in users
        }
        self.supervisor = users.get("supervisor")
        regions = {r.code: r for r in Region.objects.filter(code__in=[c for c, _ in REGIONS])}
        if not regions:
            regions = {r.code: r for r in Region.objects.filter(is_active=True).order_by("code")}
        if not regions:
            raise DemoDataError("there is no service region: load the demo people first")
        self.regions = [regions[code] for code in sorted(regions)]
        self.used_codes = set(Customer.objects.values_list("credit_code", flat=True))
        self.used_names = set(Customer.objects.values_list("name", flat=True))

        self.activities = schedule_services.activity_rows(
            (*Activity.COPIED_FIELDS, "application", *ACTIVITY_PROGRESS)
        )
        self.events = schedule_services.activity_event_rows(("activity", "kind", "day", "by", "at"))
        self.transitions = application_services.stage_transition_rows(
            ("application", "transition", "from_state", "to_state", "by", "at", "note"),
        )
        self.baselines = schedule_services.baseline_rows(
            (
                "application",
                "approved_by",
                "created_at",
                "version",
                "duration",
                "planned_duration",
                "network",
                "schedule",
                "reason",
            ),
        )
        self.reviews = application_services.review_rows(
            (
                "application",
                "quality",
                "safety",
                "efficiency",
                "satisfaction",
                "findings",
                "reviewed_by",
                "reviewed_at",
            ),
        )
        # What every application of a template shares, prepared for the database once.
        self.shared: dict[int, dict] = {}
        for plan in {c[3].template.pk: c[3] for c in self.combos}.values():
            template = plan.template
            fields = self.activities.fields[: len(Activity.COPIED_FIELDS)]
            self.shared[template.pk] = {
                "rows": [
                    tuple(
                        self.activities.prepare(field.attname, getattr(row, field.attname))
                        for field in fields
                    )
                    for row in plan.rows
                ],
                "create_note": _("Accepted; planned with %(template)s.") % {"template": template},
                "network": self.baselines.prepare("network", plan.network),
                "baseline_reason": _("Plan at acceptance from %(template)s.")
                % {"template": template},
            }
        # The plan of a template's applications accepted on one day, by (template, day 0).
        self._plans: dict[tuple[int, int], _Planned] = {}
        # The whole-process commitment of each customer class, read once.
        self._limits: dict[str, int | None] = {}
        self._dates: dict[int, object] = {}
        self._midnights: dict[int, datetime] = {}
        # Looked up once: through the connection proxy, two dozen times per application,
        # the lookup cost an eighth of the building.
        self._stored_moment = connection.ops.adapt_datetimefield_value

    def _combos(self) -> list[tuple[str, str, str, _TemplatePlan, int]]:
        """Return every (business type, class, voltage) a template plans, with its weight."""
        plans: dict[int, _TemplatePlan] = {}
        combos = []
        for customer_class, voltage_class, weight in CLASS_WEIGHTS:
            for business_type, business_weight in BUSINESS_WEIGHTS:
                template = schedule_selectors.template_for(
                    business_type=business_type,
                    customer_class=customer_class,
                    voltage_class=voltage_class,
                )
                if template is None:
                    continue
                if template.pk not in plans:
                    plans[template.pk] = _template_plan(template)
                combos.append(
                    (
                        business_type.value,
                        customer_class.value,
                        voltage_class.value,
                        plans[template.pk],
                        weight * business_weight,
                    )
                )
        if not combos:
            raise DemoDataError("no active network template plans any demo application")
        return combos

    # Values ready for the database, each prepared once.

    def _date(self, index: int):
        """Return the working day at list ``index`` as the database takes a date."""
        if index not in self._dates:
            self._dates[index] = self.activities.prepare("actual_start", self.days.date(index))
        return self._dates[index]

    def _moment(self, index: int, hour: int, minute: int) -> tuple[datetime, object]:
        """Return a time on the working day at ``index``: aware, and as the database takes it."""
        if index not in self._midnights:
            self._midnights[index] = timezone.make_aware(
                datetime.combine(self.days.date(index), datetime.min.time())
            )
        moment = self._midnights[index] + timedelta(hours=hour, minutes=minute)
        return moment, self._stored_moment(moment)

    # Drawing.

    def _draft(self, serial: int, position: int) -> tuple[random.Random, tuple, _Draft]:
        """Return the random generator, the kind and the draft of one application.

        The first applications of a run take every state and every kind in turn, so even a
        small data set shows them all.
        """
        rng = random.Random(f"yekuo-demo:{self.seed}:{serial}")
        states = list(STATE_WEIGHTS)
        if position < len(states):
            target = states[position]
            rng.random()
        else:
            target = _weighted(rng, STATE_WEIGHTS.items())
        if position < len(self.combos):
            combo = self.combos[position]
            rng.random()
        else:
            combo = _weighted(rng, [(c, c[4]) for c in self.combos])
        return rng, combo, _Draft(rng, combo[3], target)

    def plan(self, count: int, *, processes: int = 1) -> list[tuple[int, int]]:
        """Return (day 0, position) for every application of the run, in acceptance order.

        With ``processes`` > 1, forked processes place the applications of equal parts of
        the run (each application is drawn by its own generator: the same days).
        """
        if processes > 1:
            parts = [
                (count * k // processes, count * (k + 1) // processes) for k in range(processes)
            ]
            disconnect_before_fork()
            with multiprocessing.get_context("fork").Pool(
                processes, initializer=_planning, initargs=(self,)
            ) as pool:
                zeros = array("l")
                for part in pool.starmap(_placed, parts):
                    zeros.extend(part)
        else:
            zeros = self.placed(0, count)
        return sorted((g, position) for position, g in enumerate(zeros))

    def placed(self, first: int, end: int) -> array:
        """Return the day 0 (list index) of the applications at positions first..end-1."""
        zeros = array("l")
        for position in range(first, end):
            _rng, _combo, draft = self._draft(self.serial_base + position, position)
            zeros.append(draft.place(self.days))
        return zeros

    def _manager(self, rng, region_code: str, voltage_class: str) -> _Manager | None:
        if not self.managers:
            return None
        key = (region_code, voltage_class)
        if key not in self._eligible:
            eligible = [
                m for m in self.managers if region_code in m.regions and voltage_class in m.voltages
            ] or [m for m in self.managers if voltage_class in m.voltages]
            eligible = eligible or self.managers
            # Summed once: a province has thousands of managers (the same draw as weights=).
            self._eligible[key] = (eligible, list(accumulate(m.capacity for m in eligible)))
        eligible, cumulative = self._eligible[key]
        return rng.choices(eligible, cum_weights=cumulative)[0]

    # Building and writing one chunk.

    def build_chunk(self, chunk: list[tuple[int, int]]) -> list[_Built]:
        """Draw and build the applications of ``chunk``; nothing is read or written."""
        days = self.days
        built = []
        for g, position in chunk:
            rng, combo, draft = self._draft(self.serial_base + position, position)
            built.append(self._build(rng, combo, draft, draft.history(g, days)))
        return built

    def numbers(self, built: list[_Built]) -> list[str]:
        """Reserve the application numbers of a chunk, in its order."""
        with transaction.atomic():
            return application_services.application_numbers_reserve(
                years=[item.year for item in built]
            )

    def write_chunk(self, built: list[_Built], numbers: list[str] | None = None) -> Counter:
        """Write the applications :meth:`build_chunk` built, in one transaction, with the
        ``numbers`` reserved for them (reserved here if not given)."""
        with transaction.atomic(), application_services.application_rows_loading() as insert:
            if numbers is None:
                numbers = self.numbers(built)
            # Each statement's foreign keys are checked when it ends, not all at the commit,
            # so that the commit is short: the dashboard's counts, added last, stay locked
            # only for it while another writing process waits for them.
            bulk.constraints_checked_at_once()
            # Every application of a run is drawn with the same fields, in the same order.
            customers = application_services.customer_rows_insert(
                fields=tuple(built[0].customer),
                rows=[tuple(item.customer.values()) for item in built],
            )
            pks = insert(
                fields=("number", "customer", *built[0].application),
                rows=[
                    (number, customer, *item.application.values())
                    for item, number, customer in zip(built, numbers, customers, strict=True)
                ],
                energized=[item.energized for item in built],
            )
            for item, pk in zip(built, pks, strict=True):
                shared = self.shared[item.template]
                for template_part, progress_part in zip(
                    shared["rows"], item.activities, strict=True
                ):
                    self.activities.add((*template_part, pk, *progress_part))
                for row in item.transitions:
                    self.transitions.add((pk, *row))
                self.baselines.add((pk, *item.baseline))
                if item.review is not None:
                    self.reviews.add((pk, *item.review))
            self.activities.write()
            ids = {
                (application, code): pk
                for pk, application, code in Activity.objects.filter(
                    application_id__gte=min(pks), application_id__lte=max(pks)
                )
                .exclude(code="")
                .values_list("pk", "application_id", "code")
            }
            for item, pk in zip(built, pks, strict=True):
                for code, *row in item.events:
                    self.events.add((ids[pk, code], *row))
            self.events.write()
            self.transitions.write()
            self.baselines.write()
            self.reviews.write()
        return Counter(item.state for item in built)

    def _build(self, rng, combo, draft: _Draft, history: _History) -> _Built:
        business_type, customer_class, voltage_class, plan, _weight = combo
        days, g = self.days, history.g
        region = rng.choice(self.regions)
        details = _customer(
            rng,
            voltage_class=voltage_class,
            region_code=region.code,
            used_codes=self.used_codes,
            used_names=self.used_names,
        )
        capacity = _capacity(rng, voltage_class)
        dual = customer_class == CustomerClass.HV_DUAL
        important = rng.random() < (0.7 if dual else 0.1 if voltage_class != "0.4kV" else 0.0)
        manager = None if draft.unassigned else self._manager(rng, region.code, voltage_class)
        manager_id = manager.user.pk if manager else None
        supervisor_acts = rng.random() < 0.3 and self.supervisor is not None
        scores = [
            _weighted(rng, SCORES_LATE if draft.troubled else SCORES_ON_TIME) for _ in range(4)
        ]
        findings = rng.choice(FINDINGS)
        notes = {
            "suspend": rng.choice(SUSPEND_NOTES),
            "resume": rng.choice(RESUME_NOTES),
            "cancel": rng.choice(CANCEL_REASONS),
        }
        minute = draft.minute
        accepted_at, accepted_db = self._moment(g, ACCEPTED_AT[0], ACCEPTED_AT[1] + minute % 25)
        created_by = manager_id
        if manager is not None and supervisor_acts:
            created_by = self.supervisor.pk

        # The log.
        transitions = []
        energized_at = closed_at = cancelled_at = None
        cancel_reason = ""
        last_moment = accepted_at
        for day, (hour, minutes), name, source, target, _note in history.transitions:
            if name == "create":
                moment, moment_db = accepted_at, accepted_db
                by, note = created_by, self.shared[plan.template.pk]["create_note"]
            else:
                moment, moment_db = self._moment(g + day, hour, minutes)
                by, note = manager_id, notes.get(name, "")
            if name == "energize":
                energized_at, by = moment, self.staff.get("metering") or manager_id
            elif name == "close":
                closed_at = moment
            elif name == "cancel":
                cancelled_at, cancel_reason = moment, note
                if supervisor_acts:
                    by = self.supervisor.pk
            transitions.append((name, source, target, by, moment_db, note))
            last_moment = max(last_moment, moment)

        # Progress, and the forecast schedule_reforecast would store for it.
        recorded, ids = history.recorded, plan.ids
        progress = {}
        for i, code in enumerate(ids):
            if history.start[i] < recorded:
                done = history.finish[i] < recorded
                progress[code] = cpm.Progress(
                    actual_start=history.start[i],
                    actual_finish=history.finish[i] + 1 if done else None,
                )
        planned = self._planned(plan, g)
        forecast = plan.compiled.forecast(
            history.as_of, progress, planned_duration=planned.committed, **planned.meetings
        )
        events = []
        actual: dict[str, tuple] = {}
        for i, code in enumerate(ids):
            if code not in progress:
                continue
            department = plan.departments[i]
            by = (self.staff.get(department) if department else None) or manager_id
            start = g + history.start[i]
            moment, moment_db = self._moment(start, STARTED_AT[0], STARTED_AT[1] + minute % 60)
            events.append((code, "started", self._date(start), by, moment_db))
            finish_db = None
            if progress[code].actual_finish is not None:
                finish = g + history.finish[i]
                finish_db = self._date(finish)
                moment, moment_db = self._moment(
                    finish, FINISHED_AT[0], FINISHED_AT[1] + minute % 90
                )
                events.append((code, "finished", finish_db, by, moment_db))
            actual[code] = (self._date(start), finish_db, moment_db)
            last_moment = max(last_moment, moment)

        date_of = self._date
        baseline_times, forecast_times = planned.baseline.activities, forecast.activities
        # What can go on now, as the services store it with each forecast (the departments'
        # lists of work read it), by their rule.
        finished = {code for code, p in progress.items() if p.actual_finish is not None}
        activities = []
        for row in plan.rows:
            if row.is_dummy:
                # A dummy has no times: only is_critical and is_ready (False) and updated_at
                # are set.
                activities.append(
                    (None,) * (len(ACTIVITY_PROGRESS) - 3) + (False, False, accepted_db)
                )
                continue
            base, now = baseline_times[row.code], forecast_times[row.code]
            recorded = progress.get(row.code)
            ready = schedule_selectors.activity_is_ready(
                _Recorded(
                    row.code,
                    recorded.actual_start if recorded else None,
                    recorded.actual_finish if recorded else None,
                ),
                finished,
                plan.compiled,
            )
            start_db, finish_db, updated_db = actual.get(row.code, (None, None, accepted_db))
            activities.append(
                (
                    base.es,
                    base.ef,
                    base.tf,
                    base.ff,
                    date_of(g + base.es),
                    date_of(g + max(base.es, base.ef - 1)),
                    start_db,
                    finish_db,
                    date_of(g + now.es),
                    date_of(g + max(now.es, now.ef - 1)),
                    now.tf,
                    now.ff,
                    now.critical,
                    ready,
                    updated_db,
                )
            )

        review = None
        if history.review is not None:
            reviewed_at, reviewed_db = self._moment(g + history.review, *REVIEWED_AT)
            last_moment = max(last_moment, reviewed_at)
            review = (*scores, findings, manager_id, reviewed_db)

        start_date = days.date(g)
        return _Built(
            customer={"region": region.pk, "created_at": accepted_at, **details},
            application={
                "region": region.pk,
                "business_type": business_type,
                "customer_class": customer_class,
                "voltage_class": voltage_class,
                "requested_capacity_kva": capacity,
                "supply_type": SupplyType.DUAL if dual else SupplyType.SINGLE,
                "is_important": important,
                "account_manager": manager_id,
                "assigned_at": accepted_at if manager_id else None,
                "state": history.state,
                "suspended_from": history.suspended_from,
                "template": plan.template.pk,
                "start_date": start_date,
                "committed_duration": planned.committed,
                "committed_finish_date": days.date(g + max(0, planned.committed - 1)),
                "plan_meeting_weekday": settings.REVIEW_MEETING_WEEKDAY,
                "forecast_finish_date": days.date(g + max(0, forecast.finish - 1)),
                "total_float": forecast.min_total_float,
                "accepted_at": accepted_at,
                "energized_at": energized_at,
                "closed_at": closed_at,
                "cancelled_at": cancelled_at,
                "cancel_reason": cancel_reason,
                # One version per change, as the services count them.
                "version": len(transitions) + len(events) + (review is not None),
                "created_by": created_by,
                "created_at": accepted_at,
                "updated_at": last_moment,
            },
            template=plan.template.pk,
            year=start_date.year,
            state=history.state,
            energized=energized_at is not None,
            activities=activities,
            events=events,
            transitions=transitions,
            baseline=(
                created_by,
                accepted_db,
                1,
                planned.baseline.duration,
                planned.baseline.planned_duration,
                self.shared[plan.template.pk]["network"],
                planned.schedule,
                self.shared[plan.template.pk]["baseline_reason"],
            ),
            review=review,
        )

    def _planned(self, plan: _TemplatePlan, g: int) -> _Planned:
        """Return the plan of an application of ``plan``'s template with day 0 at index
        ``g``, as application_create plans it: its review meetings held on the meeting
        weekday, the commitment from that plan, the baseline against the commitment."""
        key = (plan.template.pk, g)
        planned = self._plans.get(key)
        if planned is None:
            weekdays, days = self.days.weekdays, self.days

            def weekday_of(offset: int) -> int:
                if g + offset >= len(weekdays):
                    days.date(g + offset)  # grows the list
                return weekdays[g + offset]

            weekday = settings.REVIEW_MEETING_WEEKDAY
            meetings = (
                {"weekday_of": weekday_of, "meeting_weekday": weekday}
                if weekday is not None
                else {}
            )
            customer_class = plan.template.customer_class
            if customer_class not in self._limits:
                self._limits[customer_class] = selectors.whole_process_limit(
                    customer_class=customer_class
                )
            committed = selectors.committed_duration(
                plan=plan.compiled.evaluate(**meetings), limit=self._limits[customer_class]
            )
            baseline = plan.compiled.evaluate(planned_duration=committed, **meetings)
            planned = self._plans[key] = _Planned(
                committed=committed,
                baseline=baseline,
                meetings=meetings,
                schedule=self.baselines.prepare("schedule", baseline.as_dict()),
            )
        return planned

    def fit_capacities(self) -> None:
        """Set each demo manager's capacity so that their load uses the share of it their
        ``utilisation`` says (``people.DEMO_USERS``): the capacities of the people file suit
        a small office, not the volume of applications asked for."""
        targets = {u.username: u.utilisation for u in DEMO_USERS}
        loads = manager_weighted_loads(user_ids=[m.user.pk for m in self.managers])
        capacities = {}
        for manager in self.managers:
            username = manager.user.username
            target = targets.get(
                username, PROVINCE_UTILISATION if username.startswith(PROVINCE_PREFIX) else None
            )
            load = loads.get(manager.user.pk, 0)
            if target is None or not load:
                continue
            # Rounded to the nearest capacity on the target's side of full, so that over
            # stays over and a small load still comes out near its target.
            share = load / target
            capacities[manager.user.pk] = min(
                MAX_CAPACITY, max(1, math.floor(share) if target > 1 else max(load, round(share)))
            )
        self._update_profiles("capacity", capacities)

    def note_assignments(self) -> None:
        """Bring the managers' last assignment time up to the demo's latest one."""
        latest_of = dict(
            Application.objects.filter(account_manager__in=[m.user.pk for m in self.managers])
            .values("account_manager")
            .annotate(latest=Max("assigned_at"))
            .values_list("account_manager", "latest")
        )
        latest_of = {user: latest for user, latest in latest_of.items() if latest is not None}
        self._update_profiles("last_assigned_at", latest_of, only_later=True)

    def _update_profiles(self, field: str, values: dict, *, only_later: bool = False) -> None:
        """Set ``field`` of the managers' profiles to ``values`` (by user key) in a few
        statements, however many managers a province has; with ``only_later``, never back."""
        profiles = list(AccountManagerProfile.objects.filter(any_of("user_id", list(values))))
        changed = []
        for profile in profiles:
            value, current = values[profile.user_id], getattr(profile, field)
            if current == value or (only_later and current is not None and current >= value):
                continue
            setattr(profile, field, value)
            changed.append(profile)
        AccountManagerProfile.objects.bulk_update(changed, [field], batch_size=1000)


def _demo_managers(usernames: list[str]):
    """The active profiles of the demo's account managers: the small office's and the
    province's (``people.province_managers_load``)."""
    return AccountManagerProfile.objects.filter(
        Q(user__username__in=usernames) | Q(user__username__startswith=PROVINCE_PREFIX),
        is_active=True,
    )


def disconnect_before_fork() -> None:
    """Close this process's connections and their pool: a forked child must not share
    them (two processes on one socket wait for each other's answers for ever). Each process
    opens its own when it next needs one."""
    connections.close_all()
    for alias in connections:
        close_pool = getattr(connections[alias], "close_pool", None)
        if close_pool is not None:
            close_pool()


def forks_beside() -> bool:
    """Whether forked processes can write beside this one: on PostgreSQL, outside a
    transaction (a test's, a caller's: they could not see into it), on a system that
    forks."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and "fork" in multiprocessing.get_all_start_methods()
    )


def _writes_aside(chunk_size: int, count: int) -> bool:
    """Whether other processes can write while this one builds: where they can fork beside
    it (:func:`forks_beside`), with more than one chunk to write."""
    return count > chunk_size and forks_beside()


# The loader a planning process places applications with (set as it starts, by fork).
_planner: _Loader | None = None


def _planning(loader: _Loader) -> None:
    global _planner
    _planner = loader


def _placed(first: int, end: int) -> array:
    return _planner.placed(first, end)


def _writer(loader: _Loader, inbox, outbox) -> None:
    """Write the chunks that arrive in ``inbox`` until None; answer in ``outbox``."""
    try:
        for built, numbers in iter(inbox.get, None):
            outbox.put(("written", loader.write_chunk(built, numbers)))
        outbox.put(("done", None))
    # Every failure goes back to the parent, which raises it.
    except BaseException:  # noqa: BLE001
        outbox.put(("failed", traceback.format_exc()))
    finally:
        connections.close_all()


class _AsideWriters:
    """Forked processes that write the chunks this one builds, each in its own connection.

    Building (drawing, scheduling, forecasting) takes about a third of the time; writing
    (the copies, the database's own work on them, its checks of the foreign keys) the rest,
    of which PostgreSQL does most. With ``WRITERS`` processes taking the chunks in turn, the
    database works on several chunks at once, beside the building. Each chunk is written as
    :meth:`_Loader.write_chunk` writes it in this process, with the numbers this process
    reserved for it in chunk order: the same rows and numbers; only the keys, drawn by the
    writers as they go, may interleave. At most ``AHEAD`` built chunks wait per process, so
    memory stays bounded.
    """

    AHEAD = 2
    WRITERS = 2

    def __init__(self, loader: _Loader, processes: int = WRITERS) -> None:
        context = multiprocessing.get_context("fork")
        self.outbox = context.Queue()
        disconnect_before_fork()
        self.inboxes = [context.Queue(self.AHEAD) for _ in range(processes)]
        self.processes = [
            context.Process(target=_writer, args=(loader, inbox, self.outbox), daemon=True)
            for inbox in self.inboxes
        ]
        for process in self.processes:
            process.start()
        self.sent = 0
        self.finished = 0

    def _answer(self, block: bool) -> tuple[str, object] | None:
        try:
            kind, value = self.outbox.get(block, 1.0 if block else None)
        except queue.Empty:
            for process in self.processes:
                if not process.is_alive() and process.exitcode != 0:
                    raise DemoDataError(
                        f"a writing process ended with status {process.exitcode}"
                    ) from None
            return None
        if kind == "failed":
            raise DemoDataError(f"writing the demo applications failed:\n{value}")
        return kind, value

    def put(self, built: list[_Built], numbers: list[str]) -> None:
        index = self.sent % len(self.inboxes)
        inbox, process = self.inboxes[index], self.processes[index]
        while True:
            try:
                inbox.put((built, numbers), timeout=1.0)
                break
            except queue.Full:
                if not process.is_alive():
                    # Its failure, or how it ended, is behind the chunks it wrote: read on
                    # until it is found (``_answer`` raises it).
                    while True:
                        self._answer(block=False)
        self.sent += 1

    def written(self, *, wait: bool) -> Iterator[Counter]:
        """Yield the states of each chunk written since the last call (all, with ``wait``)."""
        while self.finished < len(self.processes):
            answer = self._answer(block=wait)
            if answer is None:
                if wait:
                    continue
                return
            kind, states = answer
            if kind == "done":
                self.finished += 1
                continue
            yield states

    def finish(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)

    def close(self) -> None:
        # After a failure the others are told to stop too; they finish the chunk in hand.
        for inbox in self.inboxes:
            with suppress(queue.Full):
                inbox.put_nowait(None)
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join()
        # Chunks a failed writer never read would stay in the queue's pipe: without this,
        # this process would wait for them at its exit, for ever.
        for inbox in self.inboxes:
            inbox.cancel_join_thread()
            inbox.close()


def demo_applications_load(
    *,
    count: int,
    seed: int = DEFAULT_SEED,
    today: date,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int, int, float], None] | None = None,
    aside: bool | None = None,
) -> LoadResult:
    """Create ``count`` demo applications with their history up to the end of ``today``.

    Each call adds ``count`` more (new customers and numbers): the applications already in
    the database shift the per-application seeds. ``progress(done, count, seconds)`` is
    called after every chunk. ``aside``: write in a second process while this one builds
    the next chunks (default: where it can, see :func:`_writes_aside`); the rows are the
    same either way.
    """
    started = time.perf_counter()
    states: Counter = Counter()
    if count <= 0:
        return LoadResult(0, states, 0.0)
    # A province's volume gets a province's staff (people.APPLICATIONS_PER_MANAGER).
    province_managers_load(
        province_managers_needed(
            Application.objects.count() + count,
            present=_demo_managers([u.username for u in DEMO_USERS]).count(),
        )
    )
    loader = _Loader(seed=seed, today=today)
    if aside is None:
        aside = _writes_aside(chunk_size, count)
    # Placing every application first (to write them in acceptance order) takes a minute
    # at 1,000,000 with nothing else to do: where others write, others help to place too.
    order = loader.plan(count, processes=_AsideWriters.WRITERS if aside else 1)
    done = 0

    def note(written: Counter) -> None:
        nonlocal done, states
        states += written
        done += written.total()
        if progress is not None:
            progress(done, count, time.perf_counter() - started)

    if not aside:
        for first in range(0, count, chunk_size):
            note(loader.write_chunk(loader.build_chunk(order[first : first + chunk_size])))
    else:
        writer = _AsideWriters(loader)
        try:
            for first in range(0, count, chunk_size):
                built = loader.build_chunk(order[first : first + chunk_size])
                writer.put(built, loader.numbers(built))
                for written in writer.written(wait=False):
                    note(written)
            writer.finish()
            for written in writer.written(wait=True):
                note(written)
        finally:
            writer.close()
    loader.note_assignments()
    loader.fit_capacities()
    # What runs next (the KPI history, the learning, a sweep) plans its queries on these.
    bulk.statistics_refresh(
        Customer,
        Application,
        *(
            writer.model
            for writer in (
                loader.activities,
                loader.events,
                loader.transitions,
                loader.baselines,
                loader.reviews,
            )
        ),
    )
    return LoadResult(count, states, time.perf_counter() - started)
