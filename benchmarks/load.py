"""Load the web server with a working day's mix of requests and print what it sustains.

Run ``python -m benchmarks.load [--applications 100000] [--database-url URL] [--clients 30]
[--seconds 60] [--workers 4] [--single] [--roles R,R] [--keep] [--reuse]``. Like
``benchmarks.pages`` it creates a scratch PostgreSQL database beside the one ``URL`` (or
``DATABASE_URL``) names (``<name>_load``), migrates it, loads the demo people and ``N``
demo applications (``seed_demo``'s loader), sweeps them once and takes tonight's KPI
snapshot (with ``--reuse``, on a database a ``--keep`` run or seed_demo left, it only
sweeps a database never swept). It makes one read API token per
integrator client (``manage.py api_token_create``), then starts gunicorn with
``gunicorn.conf.py`` (``--workers`` processes, ``WEB_THREADS`` threads each) on a free port.

``--clients`` virtual users then run for ``--seconds``, each signed in once and sending its
next request as soon as the last one is answered (no think time), a working day's mix:

- account managers (six in ten): their workspace, a search in it (by customer name, number
  or credit code), the page of one of their applications, a progress entry (the working days
  an activity in progress still needs) and, now and then, a suspension the customer asked
  for and its resumption (each transition after opening the page it is applied from);
- supervisors (two in ten): the dashboard, plain or filtered, and the page of an application;
- integrators (two in ten): the REST API's application list (plain, by state, by account
  manager) and an application's detail, with a bearer token.

It prints requests/s, the 50th, 95th and 99th percentiles in milliseconds per endpoint, the
errors (a status other than the expected one, a refused form, or a connection error), and
the CPU seconds per request of the gunicorn processes (master and workers) and of the
PostgreSQL backends serving this database, read from ``/proc/<pid>/stat`` before and after.
``--single`` runs one client that visits every endpoint in turn and prints its p95 (the
target: ≤ 100 ms at 1,000,000 applications); ``--roles supervisor,integrator`` leaves the
account managers out (the other users keep their proportions). A write is timed from its
POST to the redirect that answers it, without the page read after it. The targets at 30
clients and 100,000 applications: ≥ 50 requests/s, no endpoint's p95 above 1 s, no errors.
"""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import pages

ROOT = Path(__file__).resolve().parents[1]
SCRATCH_SUFFIX = "_load"
TARGET_RATE = 50.0
TARGET_P95_MS = 1000.0
TARGET_SINGLE_P95_MS = 100.0
MANAGERS = ("manager", "manager2", "manager3", "manager4", "manager5")
# Of every ten virtual users: six account managers, two supervisors, two integrators.
ROLES = ("manager", "supervisor", "manager", "integrator", "manager") * 2
# Each endpoint and the share of its role's requests it takes.
MANAGER_MIX = (
    ("workspace", 30),
    ("workspace search", 15),
    ("application page", 30),
    ("progress entry", 20),
    ("transition", 5),
)
SUPERVISOR_MIX = (("dashboard", 50), ("dashboard, red", 20), ("application page", 30))
INTEGRATOR_MIX = (
    ("API list", 30),
    ("API list, state", 10),
    ("API list, manager", 10),
    ("API detail", 50),
)
ENDPOINTS = tuple(
    dict.fromkeys(name for mix in (MANAGER_MIX, SUPERVISOR_MIX, INTEGRATOR_MIX) for name, _ in mix)
)
VERSION = re.compile(r'name="version" value="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _role_list(value: str) -> tuple[str, ...]:
    import argparse

    roles = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [role for role in roles if role not in ROLES]
    if not roles or unknown:
        raise argparse.ArgumentTypeError(
            f"expected some of manager, supervisor, integrator, got {value!r}"
        )
    return roles


def _arguments(argv):
    parser = pages.scratch_arguments(
        "python -m benchmarks.load", __doc__, applications=10_000, requests=1
    )
    parser.add_argument("--clients", type=pages._positive, default=30, metavar="C")
    parser.add_argument("--seconds", type=float, default=60.0, metavar="S")
    parser.add_argument("--workers", type=pages._positive, default=4, metavar="W")
    parser.add_argument(
        "--single",
        action="store_true",
        help="one client, every endpoint in turn: the p95 of each as a single user sees it",
    )
    parser.add_argument(
        "--roles",
        type=_role_list,
        default=("manager", "supervisor", "integrator"),
        metavar="R,R",
        help="the kinds of virtual users (default manager,supervisor,integrator)",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", ""), metavar="URL", help="for gunicorn"
    )
    return pages.parse_scratch_arguments(parser, argv)


# --- What the clients ask for -----------------------------------------------------------------


@dataclass
class Targets:
    """The rows the mix reads and writes, picked from the database before the run."""

    pages: dict[str, list[str]]  # manager username: numbers of their active applications
    progress: dict[str, list[tuple[str, int]]]  # manager: (number, activity in progress)
    transitions: dict[str, list[str]]  # manager: numbers in construction, none in `progress`
    searches: list[str]
    all_numbers: list[str]
    api_ids: list[int]
    states: list[str]
    manager_ids: list[int]
    tokens: list[str] = field(default_factory=list)

    def writers(self) -> list[str]:
        """The managers with something to write (all of them, but a tiny database)."""
        found = [m for m in MANAGERS if self.progress.get(m) and self.transitions.get(m)]
        if not found:
            raise SystemExit(
                "no account manager has both an activity in progress and an application in "
                "construction: load more applications"
            )
        return found


def _targets(per_manager: int = 400) -> Targets:
    from accounts.models import User
    from applications.models import WORK_STATES, Application, ApplicationState
    from scheduling.models import Activity

    work = [str(s) for s in WORK_STATES]
    users = {u.username: u for u in User.objects.filter(username__in=MANAGERS)}
    pages_, progress, transitions = {}, {}, {}
    for username, user in users.items():
        owned = Application.objects.filter(account_manager=user, state__in=work)
        pages_[username] = list(
            owned.order_by("-pk").values_list("number", flat=True)[:per_manager]
        )
        moving = list(
            owned.filter(state=ApplicationState.CONSTRUCTION)
            .order_by("pk")
            .values_list("number", flat=True)[: per_manager // 4]
        )
        transitions[username] = moving
        progress[username] = list(
            Activity.objects.filter(
                application__in=owned.exclude(number__in=moving),
                actual_start__isnull=False,
                actual_finish__isnull=True,
                is_dummy=False,
            )
            .order_by("-application_id")
            .values_list("application__number", "pk")[:per_manager]
        )
    sample = list(
        Application.objects.order_by("?").values_list(
            "pk", "number", "customer__name", "customer__credit_code"
        )[:300]
    )
    searches = []
    for index, (_pk, number, name, code) in enumerate(sample[:60]):
        # Part of a customer's name (its trade word and industry), a number, a credit code.
        searches.append([name[2:6], number, code][index % 3])
    return Targets(
        pages=pages_,
        progress=progress,
        transitions=transitions,
        searches=searches,
        all_numbers=[number for _pk, number, _n, _c in sample],
        api_ids=[pk for pk, *_rest in sample],
        states=work,
        manager_ids=[u.pk for u in users.values()],
    )


def _tokens(count: int) -> list[str]:
    from io import StringIO

    from django.core.management import call_command

    keys = []
    for index in range(count):
        out = StringIO()
        call_command(
            "api_token_create",
            "supervisor",
            name=f"load benchmark {index}",
            stdout=out,
            stderr=StringIO(),
        )
        keys.append(out.getvalue().strip())
    return keys


# --- The server and its CPU -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == pid:
                found.append(int(entry.name))
    return found


def _backends(database: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )
        return [row[0] for row in cursor.fetchall()]


class Server:
    """gunicorn on a free port, as ``make run`` starts it, its log in a file."""

    def __init__(self, url: str, redis_url: str, workers: int, log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DATABASE_URL": url, "WEB_WORKERS": str(workers), "DEBUG": "false"}
        if redis_url:
            env["REDIS_URL"] = redis_url
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "--config",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, seconds: float = 60) -> None:
        import requests

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn ended with status {self.process.returncode}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def pids(self) -> list[int]:
        return [self.process.pid, *_children(self.process.pid)]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class CpuMeter:
    """CPU seconds of gunicorn's processes, this database's backends and this process (the
    clients, which share the machine) between two reads."""

    def __init__(self, server: Server, database: str) -> None:
        self.server, self.database = server, database

    def read(self) -> dict[str, dict[int, float]]:
        return {
            "gunicorn": {pid: _cpu_seconds(pid) for pid in self.server.pids()},
            "postgres": {pid: _cpu_seconds(pid) for pid in _backends(self.database)},
            "clients": {os.getpid(): _cpu_seconds(os.getpid())},
        }

    @staticmethod
    def spent(before, after) -> dict[str, float]:
        # A process that started in between counts from zero; one that ended is not seen.
        return {
            what: sum(seconds - before[what].get(pid, 0.0) for pid, seconds in after[what].items())
            for what in after
        }


# --- Virtual users --------------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.examples: list[str] = []

    def add(self, endpoint: str, milliseconds: float, error: str | None) -> None:
        with self.lock:
            self.times[endpoint].append(milliseconds)
            if error:
                self.errors[endpoint] += 1
                if len(self.examples) < 10:
                    self.examples.append(f"{endpoint}: {error}")


def _refused(response) -> str | None:
    """Return why a form post redirected with an error message, or None."""
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.http import HttpRequest

    value = response.cookies.get("messages")
    if not value:
        return None
    for message in CookieStorage(HttpRequest())._decode(value) or []:
        if message.level >= constants.ERROR:
            return str(message.message)
    return None


class VirtualUser:
    def __init__(
        self,
        index: int,
        role: str,
        base: str,
        targets: Targets,
        report: Report,
        *,
        nth: int = 0,
        of: int = 1,
    ):
        """``nth`` of ``of`` users of this role: account managers take the demo's managers
        in turn, and each writes only to its own slice of its manager's applications, so
        two virtual users never race for one application's version."""
        import requests

        self.rng = random.Random(index)
        self.role, self.base, self.targets, self.report = role, base, targets, report
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = "zh-hans"
        writers = targets.writers()
        self.username = {
            "manager": writers[nth % len(writers)],
            "supervisor": "supervisor",
            "integrator": "",
        }[role]
        self.mix = {"manager": MANAGER_MIX, "supervisor": SUPERVISOR_MIX}.get(role, INTEGRATOR_MIX)
        self.slot, self.slots = nth // len(writers), max(1, -(-of // len(writers)))
        self.moved: dict[str, bool] = {}

    def sign_in(self) -> None:
        if self.role == "integrator":
            tokens = self.targets.tokens
            self.session.headers["Authorization"] = f"Bearer {tokens.pop()}"
            return
        page = self.session.get(f"{self.base}/accounts/login/", timeout=30)
        token = CSRF.search(page.text).group(1)
        answer = self.session.post(
            f"{self.base}/accounts/login/",
            data={
                "username": self.username,
                "password": "yekuo-demo",
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{self.base}/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: HTTP {answer.status_code}")

    def _timed(self, endpoint, method, path, expect, **kwargs):
        import requests

        started = time.perf_counter()
        error = None
        response = None
        try:
            response = self.session.request(
                method, self.base + path, allow_redirects=False, timeout=60, **kwargs
            )
            if response.status_code != expect:
                error = f"HTTP {response.status_code} for {method} {path}"
            elif method == "POST":
                error = _refused(response)
                self.session.cookies.pop("messages", None)
        except requests.RequestException as exc:
            error = f"{type(exc).__name__} for {method} {path}"
        self.report.add(endpoint, (time.perf_counter() - started) * 1000, error)
        return response

    def _post(self, endpoint, path, data):
        csrf = self.session.cookies.get("csrftoken", "")
        return self._timed(
            endpoint,
            "POST",
            path,
            302,
            data={**data, "csrfmiddlewaretoken": csrf},
            headers={"Referer": self.base + path},
        )

    def _mine(self, rows):
        return rows[self.slot % self.slots :: self.slots] or rows

    def act(self, endpoint: str) -> None:
        rng, targets = self.rng, self.targets
        if endpoint == "workspace":
            self._timed(endpoint, "GET", "/", 200)
        elif endpoint == "workspace search":
            self._timed(endpoint, "GET", "/", 200, params={"q": rng.choice(targets.searches)})
        elif endpoint == "application page":
            numbers = targets.pages.get(self.username) or targets.all_numbers
            self._timed(endpoint, "GET", f"/applications/{rng.choice(numbers)}/", 200)
        elif endpoint == "progress entry":
            number, activity = rng.choice(self._mine(targets.progress[self.username]))
            self._post(
                endpoint,
                f"/applications/{number}/activities/{activity}/progress/",
                {"remaining": rng.randint(1, 6), "note": "客户告知工期"},
            )
        elif endpoint == "transition":
            number = rng.choice(self._mine(targets.transitions[self.username]))
            page = self._timed("application page", "GET", f"/applications/{number}/", 200)
            found = VERSION.search(page.text) if page is not None else None
            if found is None:
                self.report.add(endpoint, 0.0, f"no version on the page of {number}")
                return
            name = "resume" if self.moved.get(number) else "suspend"
            answer = self._post(
                endpoint,
                f"/applications/{number}/transition/",
                {"transition": name, "version": found.group(1), "note": "客户申请暂缓办理"},
            )
            if answer is not None and answer.status_code == 302:
                self.moved[number] = name == "suspend"
        elif endpoint == "dashboard":
            self._timed(endpoint, "GET", "/dashboard/", 200)
        elif endpoint == "dashboard, red":
            self._timed(endpoint, "GET", "/dashboard/", 200, params={"severity": "red"})
        elif endpoint == "API list":
            self._timed(endpoint, "GET", "/api/v1/applications/", 200)
        elif endpoint == "API list, state":
            state = rng.choice(targets.states)
            self._timed(endpoint, "GET", "/api/v1/applications/", 200, params={"state": state})
        elif endpoint == "API list, manager":
            manager = rng.choice(targets.manager_ids)
            self._timed(endpoint, "GET", "/api/v1/applications/", 200, params={"manager": manager})
        elif endpoint == "API detail":
            self._timed(
                endpoint, "GET", f"/api/v1/applications/{rng.choice(targets.api_ids)}/", 200
            )

    def run(self, until: float) -> None:
        names = [name for name, _ in self.mix]
        weights = [weight for _, weight in self.mix]
        # Every endpoint of the role once, then the mix: even a short run sees them all.
        for name in names:
            self.act(name)
        while time.monotonic() < until:
            self.act(self.rng.choices(names, weights)[0])

    def finish_transitions(self) -> None:
        """Resume what this user left suspended, so a kept database keeps its states."""
        for number, suspended in self.moved.items():
            if suspended:
                page = self.session.get(f"{self.base}/applications/{number}/", timeout=60)
                found = VERSION.search(page.text)
                if found:
                    self.session.post(
                        f"{self.base}/applications/{number}/transition/",
                        data={
                            "transition": "resume",
                            "version": found.group(1),
                            "note": "客户确认项目继续，恢复办理",
                            "csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""),
                        },
                        headers={"Referer": f"{self.base}/applications/{number}/"},
                        allow_redirects=False,
                        timeout=60,
                    )


def _roles(count: int, only: tuple[str, ...] = ("manager", "supervisor", "integrator")):
    """Return the role of each of ``count`` virtual users, in the proportions of ROLES
    among the roles ``only`` names (to measure without one kind of user)."""
    pattern = [role for role in ROLES if role in only]
    return [pattern[i % len(pattern)] for i in range(count)]


def _users(
    count: int, base: str, targets: Targets, report: Report, only: tuple[str, ...]
) -> list[VirtualUser]:
    roles = _roles(count, only)
    managers = roles.count("manager")
    users = []
    for index, role in enumerate(roles):
        nth = roles[:index].count(role)
        users.append(VirtualUser(index, role, base, targets, report, nth=nth, of=managers))
    for user in users:
        user.sign_in()
    return users


def _together(users: list[VirtualUser], until: float) -> None:
    """Run every user in its own thread until ``until`` (each visits its endpoints once)."""
    threads = [threading.Thread(target=user.run, args=(until,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _single(base: str, targets: Targets, report: Report, seconds: float) -> None:
    """One user of each role in turn, one request at a time, every endpoint in order."""
    users = {
        role: VirtualUser(i, role, base, targets, report)
        for i, role in enumerate(("manager", "supervisor", "integrator"))
    }
    for user in users.values():
        user.sign_in()
    order = [
        (users[role], name)
        for role, mix in (
            ("manager", MANAGER_MIX),
            ("supervisor", SUPERVISOR_MIX),
            ("integrator", INTEGRATOR_MIX),
        )
        for name, _ in mix
    ]
    for user, name in order:  # warm-up: every worker's first request of a kind is slower
        user.act(name)
    report.times.clear()
    report.errors.clear()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for user, name in order:
            user.act(name)
    for user in users.values():
        user.finish_transitions()


def _sweep_once() -> None:
    """Sweep a database seed_demo loaded (it does not sweep), so that the dashboard and the
    pages have deviations to show; a database swept before is left as it is."""
    from applications.sweep import deviation_sweep
    from scheduling.models import Deviation

    if not Deviation.objects.exists():
        started = time.perf_counter()
        stats = deviation_sweep()
        print(f"deviation sweep in {time.perf_counter() - started:.0f} s: {stats}", flush=True)


def _percentile(values: list[float], share: float) -> float:
    return pages._percentile(values, share) if values else 0.0


def print_report(report: Report, seconds: float, cpu: dict[str, float], *, single: bool) -> float:
    total = sum(len(times) for times in report.times.values())
    errors = sum(report.errors.values())
    rate = total / seconds if seconds else 0.0
    print(
        f"\n{'endpoint':<22} {'requests':>8} {'errors':>6} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    worst = 0.0
    for endpoint in ENDPOINTS:
        times = report.times.get(endpoint, [])
        p95 = _percentile(times, 0.95)
        worst = max(worst, p95)
        print(
            f"{endpoint:<22} {len(times):8d} {report.errors.get(endpoint, 0):6d} "
            f"{_percentile(times, 0.5):8.1f} {p95:8.1f} {_percentile(times, 0.99):8.1f}"
        )
    print(f"{'all':<22} {total:8d} {errors:6d}")
    print(f"requests/s {rate:.1f} over {seconds:.1f} s; errors {errors}")
    for example in report.examples:
        print(f"  error: {example}")
    if total:
        print(
            f"CPU per request: gunicorn {cpu['gunicorn'] / total * 1000:.1f} ms, "
            f"PostgreSQL {cpu['postgres'] / total * 1000:.1f} ms "
            f"(gunicorn {cpu['gunicorn']:.1f} s, PostgreSQL {cpu['postgres']:.1f} s in all); "
            f"the clients {cpu['clients'] / total * 1000:.1f} ms"
        )
    if seconds:
        # What the three kept busy of the machine: near every core, the server is the limit.
        busy = sum(cpu.values()) / seconds
        print(f"cores busy: {busy:.2f} of {os.cpu_count()} (gunicorn, PostgreSQL and the clients)")
    print(
        f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}"
    )
    if single:
        verdict = "met" if worst <= TARGET_SINGLE_P95_MS else "NOT met"
        print(
            f"worst p95 {worst:.1f} ms: single-client target "
            f"≤ {TARGET_SINGLE_P95_MS:.0f} ms {verdict}"
        )
    else:
        met = rate >= TARGET_RATE and worst <= TARGET_P95_MS and not errors
        print(
            f"target ≥ {TARGET_RATE:.0f} requests/s, every p95 ≤ {TARGET_P95_MS:.0f} ms, "
            f"no errors: {'met' if met else 'NOT met'} (worst p95 {worst:.1f} ms)"
        )
    return worst


def main(argv=None) -> int:
    args = _arguments(argv)
    # Stopped (timeout, kill): stop gunicorn and drop the database on the way out too.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(128 + signal.SIGTERM))
    url, name, maintenance = pages.scratch_url(args.database_url, SCRATCH_SUFFIX)
    if args.reuse:
        args.keep = True
    else:
        pages._admin(maintenance, f'DROP DATABASE IF EXISTS "{name}"')
        pages._admin(maintenance, f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}", flush=True)
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    server = None
    try:
        import django

        django.setup()
        from applications.models import Application

        if args.reuse:
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            _sweep_once()
            pages._analyze()
        else:
            pages._load(args.applications, args.seed)
        count = Application.objects.count()
        targets = _targets()
        clients = 1 if args.single else args.clients
        targets.tokens = _tokens(
            1 if args.single else _roles(clients, args.roles).count("integrator")
        )
        server = Server(url, args.redis_url, args.workers, Path(f"/tmp/{name}-gunicorn.log"))
        server.wait()
        report = Report()
        meter = CpuMeter(server, name)
        print(
            f"\n{count} applications; gunicorn {args.workers} workers × "
            f"{os.environ.get('WEB_THREADS', '2')} threads; "
            + ("one client, every endpoint in turn" if args.single else f"{clients} clients")
            + f" for {args.seconds:.0f} s; {os.cpu_count()} CPUs",
            flush=True,
        )
        if args.single:
            before = meter.read()
            started = time.monotonic()
            _single(server.base, targets, report, args.seconds)
        else:
            users = _users(clients, server.base, targets, report, args.roles)
            # Warm-up, all users at once: one request of each kind per user, not counted.
            _together(users, time.monotonic())
            report.times.clear()
            report.errors.clear()
            report.examples.clear()
            print("warmed up; measuring", flush=True)
            before = meter.read()
            started = time.monotonic()
            _together(users, started + args.seconds)
        elapsed = time.monotonic() - started
        cpu = CpuMeter.spent(before, meter.read())
        print_report(report, elapsed, cpu, single=args.single)
        if not args.single:
            for user in users:
                user.finish_transitions()
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept {url}")
        else:
            pages._admin(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
