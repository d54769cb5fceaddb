from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from catalogue.models import ApiToken
from catalogue.services.tokens import ALREADY_REVOKED, TokenError, token_create, token_revoke


@pytest.mark.django_db
def test_a_token_is_stored_only_as_its_hash(cataloguer, admin_user):
    token, raw = token_create(user=cataloguer, name="ILS sync", created_by=admin_user)
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("glamml_") and len(raw) > 40
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert raw.startswith(stored.prefix)


@pytest.mark.django_db
def test_a_token_signs_in_as_its_user_and_a_revoked_one_is_refused(client: Client, cataloguer):
    token, raw = token_create(user=cataloguer, name="ILS sync", created_by=None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert client.get("/api/collections", **headers).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    token_revoke(token=token, revoked_by=None)
    response = client.get("/api/collections", **headers)
    assert response.status_code == 401
    with pytest.raises(TokenError, match=ALREADY_REVOKED.format(name="ILS sync")):
        token_revoke(token=token, revoked_by=None)


@pytest.mark.django_db
def test_no_token_a_wrong_token_or_an_inactive_user_is_a_401(client: Client, cataloguer):
    _, raw = token_create(user=cataloguer, name="x", created_by=None)
    assert client.get("/api/collections").status_code == 401
    assert (
        client.get("/api/collections", HTTP_AUTHORIZATION="Bearer glamml_nope").status_code == 401
    )
    cataloguer.is_active = False
    cataloguer.save()
    response = client.get("/api/collections", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.django_db
def test_the_command_creates_lists_and_revokes_tokens(cataloguer, capsys):
    call_command("api_token", "create", "--user", cataloguer.username, "--name", "nightly")
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert hashlib.sha256(raw.encode()).hexdigest() == token.key_hash

    call_command("api_token", "list")
    listed = capsys.readouterr().out
    assert "nightly" in listed and "active" in listed and raw not in listed

    call_command("api_token", "revoke", str(token.id))
    token.refresh_from_db()
    assert token.revoked_at is not None
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("api_token", "create", "--user", "nobody", "--name", "x")


@pytest.mark.django_db
def test_an_admin_creates_a_token_on_the_admin_site_and_sees_it_once(
    client: Client, admin_user, cataloguer
):
    client.force_login(admin_user)
    response = client.post(
        "/admin/catalogue/apitoken/add/",
        {"name": "discovery layer", "user": cataloguer.pk},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "copy it now" in str(m)]
    raw = message.split(" is ")[1].split(" ")[0]
    assert hashlib.sha256(raw.encode()).hexdigest() == token.key_hash
    assert token.created_by == admin_user and token.user == cataloguer
    # The list never shows it again.
    assert raw not in client.get("/admin/catalogue/apitoken/").content.decode()


@pytest.mark.django_db
def test_a_cataloguer_cannot_create_tokens_on_the_admin_site(client: Client, cataloguer):
    client.force_login(cataloguer)
    response = client.post("/admin/catalogue/apitoken/add/", {"name": "x", "user": cataloguer.pk})
    assert response.status_code == 302  # to the admin login: not staff
    assert not ApiToken.objects.exists()
