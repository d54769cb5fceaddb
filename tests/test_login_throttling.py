"""Wrong passwords are throttled by account and by address; an admin can unlock (issue 11)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from tests.factories import CataloguerFactory

LOGIN = reverse("login")
PASSWORD = "a-long-test-password"  # the factories' password


def attempt(client, username, password="wrong", address="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.django_db
def test_wrong_passwords_for_one_account_lock_it_with_a_clear_message(client, settings):
    user = CataloguerFactory()
    statuses = [attempt(client, user.username, address=f"10.0.0.{i}").status_code for i in range(8)]
    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}

    # Even the right password, from a fresh address, is refused while the account is locked.
    response = attempt(client, user.username, PASSWORD, address="10.9.9.9")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins" in html and f"“{user.username}”" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_wrong_passwords_from_one_address_lock_that_address_only(client, settings):
    user = CataloguerFactory()
    for i in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"guess{i}", address="192.0.2.7")

    assert attempt(client, user.username, PASSWORD, address="192.0.2.7").status_code == 429
    response = attempt(client, user.username, PASSWORD, address="198.51.100.1")
    assert response.status_code == 302  # another address logs in
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_an_admin_unlocks_an_account_from_the_admin_site(client, admin_user, settings):
    user = CataloguerFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, user.username)
    assert attempt(client, user.username, PASSWORD, address="10.8.8.8").status_code == 429

    client.force_login(admin_user)
    locked = AccessAttempt.objects.filter(username=user.username)
    response = client.post(
        reverse("admin:axes_accessattempt_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in locked],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    client.logout()

    assert attempt(client, user.username, PASSWORD, address="10.8.8.8").status_code == 302


@pytest.mark.django_db
def test_a_successful_login_clears_the_count(client, settings):
    user = CataloguerFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, user.username)
    assert attempt(client, user.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, user.username).status_code == 200


@pytest.mark.django_db
def test_a_password_stored_with_pbkdf2_still_logs_in_and_is_stored_with_argon2(client, settings):
    settings.PASSWORD_HASHERS = settings.SITE_PASSWORD_HASHERS
    user = CataloguerFactory()
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    assert attempt(client, user.username, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    client.logout()
    assert attempt(client, user.username, PASSWORD).status_code == 302
