"""Sharing a model version: its artefact, model card, metrics and the licence the admin chose."""

from __future__ import annotations

import io
import json
import zipfile

from catalogue.machine import model_dir
from catalogue.models import Field, ModelVersion
from catalogue.services.monitoring.report import monitoring_card_facts
from catalogue.services.sharing import LICENCES, SharingError, licence_check, licence_text
from review.cards import model_card_markdown, version_card_facts

# The language profiles every language model starts from hold n-gram counts of CC BY-SA texts.
SHARE_ALIKE = "CC-BY-SA-4.0"
LANGUAGE_MODELS_SHARE_ALIKE = (
    "A language model holds n-gram counts derived from CC BY-SA 4.0 texts (see "
    "glamml/ml/data/SOURCE.md): it can only be shared under CC-BY-SA-4.0."
)
ARTEFACT_MISSING = "The artefact of {field} v{version} is missing ({path}): retrain to share it."


def model_bundle(*, version: ModelVersion, licence: str) -> bytes:
    """A zip: the artefact as trained (with its checksum), the model card, metrics, licence."""
    licence_check(licence)
    field = version.field
    if field.kind == Field.Kind.LANGUAGE and licence != SHARE_ALIKE:
        raise SharingError(LANGUAGE_MODELS_SHARE_ALIKE)
    path = model_dir() / version.artefact
    if not path.is_file():
        raise SharingError(
            ARTEFACT_MISSING.format(field=field.key, version=version.version, path=path.name)
        )
    name = f"{field.key}-v{version.version}"
    metrics = {
        "field": field.key,
        "version": version.version,
        "status": version.status,
        "artefact": path.name,
        "sha256": version.checksum,
        "format_version": version.format_version,
        "n_train": version.n_train,
        "n_test": version.n_test,
        "metrics": version.metrics,
        "baselines": version.baselines,
        "params": version.params,
        "training_fingerprint": version.training_fingerprint,
        "created_at": version.created_at.isoformat(),
        "licence": licence,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(path, f"{name}/{path.name}")
        card = model_card_markdown(
            version_card_facts(version), monitoring_card_facts(version=version)
        )
        card = card if version.card else "No model card.\n"
        # The card says its licence too, so a copy that travels without LICENSE.txt still does.
        card += f"\n## Licence\n\nShared under {LICENCES[licence]} ({licence}).\n"
        bundle.writestr(f"{name}/MODEL_CARD.md", card)
        bundle.writestr(f"{name}/metrics.json", json.dumps(metrics, indent=2, default=str))
        what = f"The {field.name} model v{version.version}"
        bundle.writestr(f"{name}/LICENSE.txt", licence_text(licence, what=what))
    return buffer.getvalue()
