"""Tests of the compute_schedule and analyse_delay commands, the stable interface for tools:
the worked examples through call_command and through a real ``manage.py`` process, stdin,
and bad input giving exactly one line on stderr and exit status 2, never a traceback."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "networks"
HV = EXAMPLES / "hv-single-10kv.json"
AON = EXAMPLES / "textbook-aon.json"


def expected(name):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def manage(*args, stdin=None):
    """Run ``python manage.py ARGS`` in a fresh process, as a tool would."""
    return subprocess.run(
        [sys.executable, "manage.py", *map(str, args)],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def command(*args, stdin=None, **options):
    """Run a command in-process and return what it printed on stdout."""
    out = io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    call_command(*args, stdout=out, **options)
    return out.getvalue()


# --- The worked examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "answer"),
    [(HV, "hv-single-10kv.expected.json"), (AON, "textbook-aon.expected.json")],
)
def test_compute_schedule_prints_the_expected_answer(network, answer):
    assert json.loads(command("compute_schedule", str(network))) == expected(answer)


def test_analyse_delay_prints_the_expected_answer():
    printed = command("analyse_delay", str(HV), activity="N", delay=15)

    assert json.loads(printed) == expected("hv-single-10kv.delay-N-15.expected.json")


def test_delay_given_as_text_is_read_as_days():
    printed = command("analyse_delay", str(HV), "--activity", "N", "--delay", "15")

    assert json.loads(printed)["new_duration"] == 55


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        (["compute_schedule", HV], "hv-single-10kv.expected.json"),
        (["compute_schedule", AON], "textbook-aon.expected.json"),
        (
            ["analyse_delay", HV, "--activity", "N", "--delay", "15"],
            "hv-single-10kv.delay-N-15.expected.json",
        ),
    ],
)
def test_a_process_prints_the_expected_answer_in_the_files_own_layout(args, answer):
    result = manage(*args)

    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == expected(answer)
    # indent=1, non-ASCII kept as is, one trailing newline: the layout of the expected files.
    assert result.stdout == (EXAMPLES / answer).read_text(encoding="utf-8")


def test_dash_reads_the_network_from_stdin():
    text = HV.read_text(encoding="utf-8")

    assert json.loads(command("compute_schedule", "-", stdin=text)) == expected(
        "hv-single-10kv.expected.json"
    )
    delay = command("analyse_delay", "-", stdin=text, activity="N", delay=15)
    assert json.loads(delay) == expected("hv-single-10kv.delay-N-15.expected.json")


@pytest.mark.parametrize(
    ("args", "answer"),
    [
        (["compute_schedule", "-"], "textbook-aon.expected.json"),
        (["analyse_delay", "-", "--activity", "H", "--delay", "2"], None),
    ],
)
def test_a_process_reads_stdin_for_dash(args, answer):
    result = manage(*args, stdin=AON.read_text(encoding="utf-8"))

    assert (result.returncode, result.stderr) == (0, "")
    printed = json.loads(result.stdout)
    if answer:
        assert printed == expected(answer)
    else:
        # H is critical; Tp = 16 < Tc = 17, so the overrun is the day already missing plus 2.
        assert (printed["total_duration_delay"], printed["commitment_overrun"]) == (2, 3)


def test_non_ascii_ids_are_printed_as_they_are():
    network = {
        "activities": [
            {"id": "勘查", "duration": 2},
            {"id": "设计", "duration": 3, "predecessors": ["勘查"]},
        ]
    }

    result = manage("compute_schedule", "-", stdin=json.dumps(network, ensure_ascii=False))

    assert result.returncode == 0
    assert '"勘查": {' in result.stdout
    assert json.loads(result.stdout)["critical_paths"] == [["勘查", "设计"]]


# --- Bad input --------------------------------------------------------------------------------


def aon(*activities):
    return {
        "activities": [
            {"id": ident, "duration": duration, "predecessors": preds}
            for ident, duration, preds in activities
        ]
    }


BAD_NETWORKS = {
    "cycle": aon(("A", 1, ["C"]), ("B", 1, ["A"]), ("C", 1, ["B"])),
    "unknown_predecessor": aon(("A", 1, []), ("B", 1, ["Z"])),
    "duplicate_activity": aon(("A", 1, []), ("A", 2, [])),
    "negative_duration": aon(("A", -1, [])),
    "fractional_duration": aon(("A", 1.5, [])),
    "empty_network": {"activities": []},
    "duplicate_arc": {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"id": "B", "tail": 1, "head": 2, "duration": 2},
        ]
    },
    "mixed_form": {
        "activities": [
            {"id": "A", "tail": 1, "head": 2, "duration": 1},
            {"id": "B", "duration": 1, "predecessors": ["A"]},
        ]
    },
}

# The whole line a tool sees for each: the command, the error's code, the engine's message.
BAD_NETWORK_LINES = {
    "cycle": "compute_schedule: cycle: the network has a cycle: A → B → C → A",
    "unknown_predecessor": (
        "compute_schedule: unknown_predecessor: activity 'B' has an unknown predecessor 'Z'"
    ),
    "duplicate_activity": (
        "compute_schedule: duplicate_activity: activity id 'A' is used more than once"
    ),
    "negative_duration": (
        "compute_schedule: invalid_duration: activity 'A': duration must be a whole, "
        "non-negative number of working days, got -1"
    ),
    "fractional_duration": (
        "compute_schedule: invalid_duration: activity 'A': duration must be a whole, "
        "non-negative number of working days, got 1.5"
    ),
    "empty_network": "compute_schedule: empty_network: the network has no activities",
    "duplicate_arc": (
        "compute_schedule: duplicate_arc: activities 'A' and 'B' both run from event 1 to "
        "event 2; give one of them its own head event and a dummy"
    ),
    "mixed_form": (
        "compute_schedule: mixed_form: the network mixes forms: 'A' is AOA (tail/head), "
        "'B' is AON (predecessors)"
    ),
}


@pytest.fixture
def write(tmp_path):
    def write(name, content):
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


@pytest.mark.parametrize("problem", sorted(BAD_NETWORKS))
def test_bad_network_is_one_line_naming_the_problem(problem, write):
    path = write("net.json", BAD_NETWORKS[problem])

    with pytest.raises(CommandError) as caught:
        command("compute_schedule", str(path))

    assert caught.value.returncode == 2
    assert str(caught.value) == BAD_NETWORK_LINES[problem]


def test_bad_json_and_files_are_one_line_too(write, tmp_path):
    broken = write("broken.json", '{"activities": [')
    missing = tmp_path / "missing.json"

    cases = {
        broken: (
            f"compute_schedule: malformed_json: {broken} is not valid JSON: "
            "Expecting value (line 1, column 17)"
        ),
        missing: (
            f"compute_schedule: unreadable_file: cannot read {missing}: No such file or directory"
        ),
        tmp_path: f"compute_schedule: unreadable_file: cannot read {tmp_path}: Is a directory",
    }
    for path, line in cases.items():
        with pytest.raises(CommandError) as caught:
            command("compute_schedule", str(path))
        assert (caught.value.returncode, str(caught.value)) == (2, line)


def test_json_that_is_not_a_network_is_one_line():
    with pytest.raises(CommandError) as caught:
        command("compute_schedule", "-", stdin="[1, 2]")

    assert str(caught.value) == (
        "compute_schedule: malformed_network: $: a network must be a JSON object"
    )


@pytest.mark.parametrize(
    ("activity", "delay", "line"),
    [
        ("Z", "1", "analyse_delay: unknown_activity: there is no activity 'Z' in the network"),
        (
            "N",
            "1.5",
            "analyse_delay: invalid_duration: activity 'N': delay must be a whole, "
            "non-negative number of working days, got '1.5'",
        ),
        (
            "N",
            "-3",
            "analyse_delay: invalid_duration: activity 'N': delay must be a whole, "
            "non-negative number of working days, got -3",
        ),
        (
            "N",
            "two",
            "analyse_delay: invalid_duration: activity 'N': delay must be a whole, "
            "non-negative number of working days, got 'two'",
        ),
    ],
)
def test_bad_delay_request_is_one_line(activity, delay, line):
    with pytest.raises(CommandError) as caught:
        command("analyse_delay", str(HV), "--activity", activity, "--delay", delay)

    assert (caught.value.returncode, str(caught.value)) == (2, line)


def test_analyse_delay_reports_a_bad_network_before_the_request():
    with pytest.raises(CommandError) as caught:
        command("analyse_delay", "-", stdin="{}", activity="Z", delay=-1)

    assert str(caught.value) == (
        "analyse_delay: malformed_network: $: the key 'activities' is missing"
    )


def one_line_failure(result):
    """Assert the process failed as tools expect and return its one stderr line."""
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].strip()
    return lines[0]


@pytest.mark.parametrize("problem", sorted(BAD_NETWORKS))
def test_a_process_given_a_bad_network_exits_2_with_one_line(problem, write):
    path = write("net.json", BAD_NETWORKS[problem])

    assert one_line_failure(manage("compute_schedule", path)) == BAD_NETWORK_LINES[problem]


@pytest.mark.parametrize(
    ("args", "stdin", "start"),
    [
        (["compute_schedule", "-"], '{"activities": [', "compute_schedule: malformed_json: stdin "),
        (["compute_schedule", "no-such-file.json"], None, "compute_schedule: unreadable_file: "),
        (["compute_schedule", "examples"], None, "compute_schedule: unreadable_file: "),
        (["analyse_delay", HV, "--activity", "Z", "--delay", "1"], None, "analyse_delay: "),
        (["analyse_delay", HV, "--activity", "N", "--delay", "1.5"], None, "analyse_delay: "),
        (["analyse_delay", HV, "--activity", "N", "--delay", "-3"], None, "analyse_delay: "),
        (["analyse_delay", "-", "--activity", "A", "--delay", "1"], "{", "analyse_delay: "),
        (["analyse_delay", HV, "--delay", "1"], None, "manage.py analyse_delay: error: "),
        (["analyse_delay", HV, "--activity", "N"], None, "manage.py analyse_delay: error: "),
        (["compute_schedule"], None, "manage.py compute_schedule: error: "),
    ],
)
def test_a_process_given_bad_input_exits_2_with_one_line(args, stdin, start):
    line = one_line_failure(manage(*args, stdin=stdin))

    assert line.startswith(start)


def test_a_usage_error_names_the_missing_option():
    line = one_line_failure(manage("analyse_delay", HV, "--delay", "1"))

    assert line == (
        "manage.py analyse_delay: error: the following arguments are required: --activity"
    )
