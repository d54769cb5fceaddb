from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalogue.models import ApiToken
from catalogue.services.tokens import TokenError, token_create, token_revoke


class Command(BaseCommand):
    help = (
        "Create, list or revoke API tokens. A token acts as its user, with that user's rights; "
        "it is printed once and only its hash is kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token and print it once")
        create.add_argument("--user", required=True, help="The username the token acts as")
        create.add_argument("--name", required=True, help="What uses it, e.g. 'ILS sync'")
        actions.add_parser("list", help="List tokens (never the tokens themselves)")
        revoke = actions.add_parser("revoke", help="Revoke a token by its id from `list`")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self._create(options["user"], options["name"])
            elif options["action"] == "list":
                self._list()
            else:
                self._revoke(options["id"])
        except TokenError as exc:
            raise CommandError(str(exc)) from None

    def _create(self, username: str, name: str) -> None:
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        token, raw = token_create(user=user, name=name, created_by=None)
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.id} ({token.name!r}) acts as {username}. Keep it now: it is not "
            "shown again. Send it as 'Authorization: Bearer <token>'."
        )

    def _list(self) -> None:
        for t in ApiToken.objects.select_related("user"):
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
            self.stdout.write(
                f"{t.id}\t{t.prefix}…\t{t.user.get_username()}\t{t.name}\t{state}\tused {used}"
            )

    def _revoke(self, token_id: int) -> None:
        try:
            token = ApiToken.objects.get(pk=token_id)
        except ApiToken.DoesNotExist:
            raise CommandError(f"No token {token_id}; see `api_token list`.") from None
        token_revoke(token=token, revoked_by=None)
        self.stdout.write(f"Revoked token {token.id} ({token.name!r}).")
