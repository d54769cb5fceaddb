from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        # glamml.ml is Django-free: the setting reaches it here, once, in every process.
        from django.conf import settings

        from catalogue import counts  # noqa: F401  (connects the after-response recount)
        from glamml.ml import artefacts

        artefacts.COMPRESS_LEVEL = settings.GLAMML_MODEL_COMPRESS_LEVEL
