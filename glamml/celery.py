"""The Celery app. Tasks live in each Django app's ``tasks.py``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")

app = Celery("glamml")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
