"""What every command shares: bad input is one line on stderr and exit status 2."""

from django.core.management.base import BaseCommand, CommandError

EXIT_BAD_INPUT = 2


class RefusingCommand(BaseCommand):
    """A command that refuses bad input with one line, ``<command>: <why>``: on stderr and
    exit status 2 from the command line; a CommandError with that status from code."""

    def refuse(self, message: str):
        line = f"{self.__module__.rsplit('.', 1)[-1]}: {message}"
        if getattr(self, "_called_from_command_line", False):
            self.stderr.write(line)
            raise SystemExit(EXIT_BAD_INPUT)
        raise CommandError(line, returncode=EXIT_BAD_INPUT)
