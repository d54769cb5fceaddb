from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "review/queue.html", {})


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "review/dashboard.html", {})
