"""The JSON API at ``/api/`` (django-ninja), described by OpenAPI at ``/api/openapi.json``."""
