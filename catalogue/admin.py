from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from catalogue import models
from catalogue.services.moves import record_move
from catalogue.services.rerouting import collection_sensitivity_changed
from catalogue.services.tokens import token_create, token_revoke


@admin.register(models.Collection)
class CollectionAdmin(admin.ModelAdmin[models.Collection]):
    list_display = ["name", "slug", "is_public", "is_sensitive", "licence"]
    prepopulated_fields = {"slug": ["name"]}

    def save_model(
        self,
        request: HttpRequest,
        obj: models.Collection,
        form: ModelForm[models.Collection],
        change: bool,
    ) -> None:
        """A change of "sensitive" re-routes every field (:func:`collection_sensitivity_changed`):
        the values a model applied in a collection made sensitive go back to a person."""
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if change and "is_sensitive" in form.changed_data:
                collection_sensitivity_changed(collection=obj, changed_by=request.user)  # type: ignore[arg-type]


@admin.register(models.Record)
class RecordAdmin(admin.ModelAdmin[models.Record]):
    list_display = ["identifier", "title", "collection"]
    list_filter = ["collection"]
    search_fields = ["identifier", "title"]

    def save_model(
        self, request: HttpRequest, obj: models.Record, form: ModelForm[models.Record], change: bool
    ) -> None:
        """A change of collection goes through :func:`record_move`, which re-routes the
        record's predictions under the new collection's rules; the other fields save as usual."""
        if not change or "collection" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        target = obj.collection
        obj.collection_id = form.initial["collection"]
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            record_move(record=obj, collection=target, moved_by=request.user)  # type: ignore[arg-type]


@admin.register(models.Field)
class FieldAdmin(admin.ModelAdmin[models.Field]):
    list_display = ["key", "name", "kind"]


@admin.register(models.Label)
class LabelAdmin(admin.ModelAdmin[models.Label]):
    list_display = ["code", "name", "field", "is_sensitive"]
    list_filter = ["field", "is_sensitive"]
    search_fields = ["code", "name"]


@admin.register(models.ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin[models.ModelVersion]):
    list_display = ["field", "version", "status", "n_train", "created_at"]
    readonly_fields = [f.name for f in models.ModelVersion._meta.fields]


@admin.register(models.TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin[models.TrainingRun]):
    list_display = ["field", "status", "created_at", "finished_at"]


@admin.register(models.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[models.ApiToken]):
    """Admins create tokens here: the token is shown once, in a message, and only its hash kept."""

    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    fields = ["name", "user"]
    actions = ["revoke"]

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # Revoke instead: a revoked token keeps its record of who made it and when.
        return False

    def save_model(
        self, request: HttpRequest, obj: models.ApiToken, form: object, change: bool
    ) -> None:
        token, raw = token_create(user=obj.user, name=obj.name, created_by=request.user)  # type: ignore[arg-type]
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        self.message_user(
            request,
            f"The token for {token.name!r} is {raw} — copy it now: it is not shown again.",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[models.ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token=token, revoked_by=request.user)  # type: ignore[arg-type]
        self.message_user(request, "Revoked.", messages.SUCCESS)
