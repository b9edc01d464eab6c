"""The shared part of the commands that read a network JSON file (``compute_schedule``,
``analyse_delay``): reading the file or stdin, printing JSON, and one-line errors.

Tools call these commands, so their failure mode is part of the interface: bad input prints
exactly one line, ``<command>: <code>: <message>``, on stderr and exits with status 2; a
usage error prints argparse's one ``error:`` line and exits with status 2 too. Called
through ``call_command`` the same line is raised as ``CommandError(returncode=2)``.
"""

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from scheduling.cpm import NetworkError

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Raise when the network file cannot be read or is not JSON."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def read_json(path: str, stdin: Any) -> Any:
    """Return the decoded JSON of the file at ``path``, or of ``stdin`` when it is ``-``."""
    if path == "-":
        source = "stdin"
        # Read bytes where possible so that json detects the encoding (UTF-8, with or
        # without a BOM) the same way for a pipe and for a file.
        raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read()
    else:
        source = path
        try:
            raw = Path(path).read_bytes()
        except OSError as error:
            raise InputError(
                "unreadable_file", f"cannot read {path}: {error.strerror or error}"
            ) from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise InputError(
            "malformed_json",
            f"{source} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
        ) from None
    except UnicodeDecodeError:
        raise InputError("malformed_json", f"{source} is not UTF-8 text") from None
    except RecursionError:
        raise InputError("malformed_json", f"{source} is nested too deeply") from None


class NetworkCommand(BaseCommand):
    """A command that reads one network and prints one JSON document.

    Subclasses set ``name`` and implement :meth:`compute`, which returns the document and
    lets :class:`~scheduling.cpm.NetworkError` (or :class:`InputError`) propagate.
    """

    name = ""
    # Pure computation: no system checks and no database, so the commands run anywhere.
    requires_system_checks = []
    stealth_options = ("stdin",)

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # argparse prints the whole usage before its "error:" line; tools read one line,
        # and --help still shows the usage.
        parser.print_usage = lambda file=None: None
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="The network JSON file; - reads stdin.")

    def compute(self, network_data: Any, **options: Any) -> dict[str, Any]:
        raise NotImplementedError

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            data = read_json(file, options.get("stdin") or sys.stdin)
            result = self.compute(data, **options)
        except (NetworkError, InputError) as error:
            line = f"{self.name}: {error.code}: {error.message}"
            if getattr(self, "_called_from_command_line", False):
                # Django would print "CommandError: " before the line; tools get it bare.
                self.stderr.write(line)
                sys.exit(EXIT_BAD_INPUT)
            raise CommandError(line, returncode=EXIT_BAD_INPUT) from error
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=1))
