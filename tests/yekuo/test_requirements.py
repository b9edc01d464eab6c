"""requirements.txt is what production runs; requirements-dev.txt adds the test tools."""

import json
import os
import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _lines(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def _pins(name: str) -> dict[str, Requirement]:
    pins = [Requirement(line) for line in _lines(name) if not line.startswith("-")]
    return {canonicalize_name(pin.name): pin for pin in pins}


def _dependencies(pins: dict[str, Requirement]) -> set[str]:
    """Return the names of every distribution the pins need, themselves included."""
    needed: dict[str, set[str]] = {}
    todo = [(name, set(pin.extras)) for name, pin in pins.items()]
    while todo:
        name, extras = todo.pop()
        if name in needed and extras <= needed[name]:
            continue
        needed.setdefault(name, set()).update(extras)
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                todo.append((canonicalize_name(requirement.name), set(requirement.extras)))
    return set(needed)


def _modules(names: set[str]) -> set[str]:
    """Return the top-level modules the distributions ``names`` install."""
    modules = set()
    for name in names:
        try:
            files = distribution(name).files or []
        except PackageNotFoundError:
            continue
        for file in files:
            top = file.parts[0]
            if top.endswith((".dist-info", ".data", ".pth")) or top in {"..", "__pycache__"}:
                continue
            modules.add(re.sub(r"\.py$", "", top).split(".")[0])
    return modules


def test_the_development_requirements_start_from_the_runtime_ones():
    assert _lines("requirements-dev.txt")[0] == "-r requirements.txt"
    assert not set(_pins("requirements.txt")) & set(_pins("requirements-dev.txt"))


def test_the_runtime_requirements_pin_everything_they_need_and_no_test_tool():
    runtime = _pins("requirements.txt")
    assert all(str(pin.specifier).startswith("==") for pin in runtime.values())
    needed = _dependencies(runtime)
    assert needed <= set(runtime)
    # tzdata is a dependency only on Windows; the slim image needs it for zoneinfo.
    assert set(runtime) - needed <= {"tzdata"}
    assert {"pytest", "hypothesis", "factory-boy", "ruff", "schemathesis"}.isdisjoint(runtime)


def test_the_image_installs_the_runtime_requirements_only():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert "-r requirements-dev.txt" not in dockerfile


_WITHOUT_TEST_TOOLS = """
import importlib, importlib.abc, json, os, sys

hidden = set(json.loads(os.environ["HIDDEN_MODULES"]))


class TestToolsAbsent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.partition(".")[0] in hidden:
            raise ModuleNotFoundError(f"No module named {name!r} (a test tool)", name=name)
        return None


sys.meta_path.insert(0, TestToolsAbsent())
import django

django.setup()
from django.core.management import call_command

call_command("check")
for module in ("yekuo.celery", "yekuo.wsgi", "applications.tasks", "applications.sweep",
               "supervision.views", "demo.applications", "demo.management.commands.seed_demo"):
    importlib.import_module(module)
print("started without test tools")
"""


def test_the_product_starts_without_the_test_tools():
    tools = set(_pins("requirements-dev.txt")) - _dependencies(_pins("requirements.txt"))
    hidden = _modules(tools)
    assert {"pytest", "hypothesis", "factory", "faker"} <= hidden
    env = {**os.environ, "HIDDEN_MODULES": json.dumps(sorted(hidden))}
    env.setdefault("DJANGO_SETTINGS_MODULE", "yekuo.settings")
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TEST_TOOLS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "started without test tools" in done.stdout
