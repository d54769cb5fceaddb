from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.test import Client

from catalogue.models import FieldValue
from review.sharing import LANGUAGE_MODELS_SHARE_ALIKE
from tests.factories import FieldValueFactory, RecordFactory


@pytest.mark.django_db
def test_an_admin_downloads_a_model_with_its_card_metrics_and_licence(
    client: Client, admin_user, active_model
):
    client.force_login(admin_user)
    response = client.get(f"/review/models/{active_model.code}/download.zip?licence=CC-BY-SA-4.0")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="language-v1.zip"'
    with zipfile.ZipFile(io.BytesIO(response.content)) as bundle:
        names = set(bundle.namelist())
        assert {
            "language-v1/v0001.npz",
            "language-v1/MODEL_CARD.md",
            "language-v1/metrics.json",
            "language-v1/LICENSE.txt",
        } == names
        metrics = json.loads(bundle.read("language-v1/metrics.json"))
        assert metrics["sha256"] == active_model.checksum and metrics["licence"] == "CC-BY-SA-4.0"
        assert "CC-BY-SA-4.0" in bundle.read("language-v1/LICENSE.txt").decode()
        card = bundle.read("language-v1/MODEL_CARD.md").decode()
        assert card.endswith(
            "## Licence\n\nShared under Creative Commons Attribution-ShareAlike 4.0 "
            "International (CC-BY-SA-4.0).\n"
        )


@pytest.mark.django_db
def test_a_language_model_is_shared_alike_only_and_an_unknown_licence_is_named(
    client: Client, admin_user, active_model
):
    client.force_login(admin_user)
    response = client.get(f"/review/models/{active_model.code}/download.zip?licence=CC0-1.0")
    assert response.status_code == 400 and response.content.decode() == LANGUAGE_MODELS_SHARE_ALIKE
    response = client.get(f"/review/models/{active_model.code}/download.zip?licence=WTFPL")
    assert response.status_code == 400 and "Unknown licence 'WTFPL'" in response.content.decode()


@pytest.mark.django_db
def test_the_model_page_offers_the_model_training_data_and_datasheet(
    client: Client, admin_user, active_model
):
    client.force_login(admin_user)
    page = client.get(f"/review/models/{active_model.code}/").content.decode()
    assert f"/review/models/{active_model.code}/download.zip" in page
    assert "/review/fields/language/training-data/" in page
    assert 'value="datasheet"' in page
    assert '<option value="CC-BY-SA-4.0" selected>' in page


@pytest.mark.django_db
def test_an_admin_downloads_the_datasheet_and_the_training_data(client: Client, admin_user, field):
    FieldValueFactory(record=RecordFactory(), label="fra", source=FieldValue.Source.IMPORT)
    client.force_login(admin_user)
    sheet = client.get("/review/fields/language/training-data/?licence=CC0-1.0&format=datasheet")
    assert sheet.status_code == 200 and sheet["Content-Type"].startswith("text/markdown")
    assert "# Datasheet: Language training data" in sheet.content.decode()
    data = client.get("/review/fields/language/training-data/?licence=CC0-1.0&format=csv")
    with zipfile.ZipFile(io.BytesIO(data.content)) as bundle:
        assert "fra" in bundle.read("language-training-data/language-training-data.csv").decode()


@pytest.mark.django_db
def test_only_admins_share(client: Client, cataloguer, active_model):
    assert (
        client.get(
            f"/review/models/{active_model.code}/download.zip?licence=CC-BY-SA-4.0"
        ).status_code
        == 302
    )
    client.force_login(cataloguer)
    assert (
        client.get(
            f"/review/models/{active_model.code}/download.zip?licence=CC-BY-SA-4.0"
        ).status_code
        == 403
    )
    assert client.get("/review/fields/language/training-data/?licence=CC0-1.0").status_code == 403
