"""Make an API token for a user and print its key once (it is not stored readable)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from accounts import services
from accounts.models import TokenScope
from yekuo.errors import InvalidInput


class Command(BaseCommand):
    help = (
        "Make a named API token for USERNAME and print the key. Store it at once: yekuo "
        "keeps only a digest, so it cannot show the key again."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.print_usage = lambda file=None: None  # one line on stderr, not the usage
        return parser

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which system uses the token.")
        parser.add_argument(
            "--scope", choices=TokenScope.values, default=TokenScope.READ, help="read or write"
        )
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Days valid (default {settings.API_TOKEN_DEFAULT_DAYS}, "
            f"at most {settings.API_TOKEN_MAX_DAYS}).",
        )

    def handle(self, *args, username, name, scope, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            self.stderr.write(f"api_token_create: no user is named {username!r}")
            raise SystemExit(2)
        try:
            token, key = services.api_token_create(user=user, name=name, scope=scope, days=days)
        except InvalidInput as error:
            field, messages = next(iter(error.errors.items()))
            self.stderr.write(f"api_token_create: {field}: {messages[0]}")
            raise SystemExit(2) from error
        self.stdout.write(key)
        self.stderr.write(
            f"token {token.prefix}… “{token.name}” ({token.scope}) for {user.username}, "
            f"valid until {token.expires_at:%Y-%m-%d %H:%M %Z}"
        )
