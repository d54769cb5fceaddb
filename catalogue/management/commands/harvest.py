from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from catalogue.interop.harvest import PREFIXES, HarvestError, harvest_run
from catalogue.models import Collection


class Command(BaseCommand):
    help = (
        "Harvest an OAI-PMH repository into a collection (oai_dc or marc21). A harvest that "
        "stops resumes after the last page it stored; a finished one asks next time only for "
        "what changed since."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="The repository's base URL")
        parser.add_argument("--collection", required=True, help="Collection slug (created if new)")
        parser.add_argument("--collection-name", default="", help="Name for a new collection")
        parser.add_argument("--set", default="", dest="set_spec", help="Harvest one set only")
        parser.add_argument("--prefix", choices=sorted(PREFIXES), default="oai_dc")
        parser.add_argument(
            "--full", action="store_true", help="Harvest everything, not only what changed"
        )
        parser.add_argument("--private", action="store_true", help="A new collection is not public")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = str(options["collection"])
        collection, _ = Collection.objects.get_or_create(
            slug=slug,
            defaults={
                "name": str(options["collection_name"] or slug),
                "is_public": not options["private"],
            },
        )
        bar = tqdm(desc="Harvesting", unit=" records", disable=int(str(options["verbosity"])) < 1)
        try:
            result = harvest_run(
                url=str(options["url"]),
                collection=collection,
                set_spec=str(options["set_spec"]),
                prefix=str(options["prefix"]),
                full=bool(options["full"]),
                progress=bar.update,
            )
        except HarvestError as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        how = "resumed, " if result.resumed else ""
        since = f" changed since {result.incremental_from}" if result.incremental_from else ""
        if result.nothing_new:
            self.stdout.write(f"{collection.slug}: no records{since}; nothing to do.")
            return
        self.stdout.write(
            f"{collection.slug}: {how}{result.records} records{since} stored "
            f"from {result.pages} page(s)."
        )
