from __future__ import annotations

from django.contrib import admin

from catalogue import models


@admin.register(models.Collection)
class CollectionAdmin(admin.ModelAdmin[models.Collection]):
    list_display = ["name", "slug", "is_public", "is_sensitive", "licence"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(models.Record)
class RecordAdmin(admin.ModelAdmin[models.Record]):
    list_display = ["identifier", "title", "collection"]
    list_filter = ["collection"]
    search_fields = ["identifier", "title"]


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
