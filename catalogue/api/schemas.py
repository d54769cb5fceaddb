"""What the API accepts and returns. Every request body and query refuses fields it does not
know."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from django.http import HttpRequest
from ninja import Schema
from ninja.errors import ValidationError
from pydantic import AfterValidator, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict

MAX_RECORDS = 1000
MAX_TEXTS = 100
# No NUL characters: PostgreSQL cannot store them, and no catalogue text has one.
NO_NUL = r"^[^\x00]*$"
Text = Annotated[str, StringConstraints(max_length=20000, pattern=NO_NUL)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_NUL)]
Slug = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[-a-zA-Z0-9_]+$")]
KEY_NAMES: JsonDict = {"minLength": 1, "maxLength": 200, "pattern": NO_NUL}


def _check_keys(value: dict[str, str]) -> dict[str, str]:
    # Pydantic would describe a constrained key type as patternProperties, which lets any other
    # key through the description; checking here and describing it as propertyNames keeps the
    # two the same.
    for key in value:
        if not 1 <= len(key) <= 200 or "\x00" in key:
            raise ValueError(f"{key!r} is not a name: 1 to 200 characters, no NUL character")
    return value


# Far beyond any catalogue, and within what a database's OFFSET accepts.
MAX_OFFSET = 1_000_000_000


class Strict(Schema):
    """A request body: an unknown field is an error that names it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


def refuse_unknown_query(request: HttpRequest, query: type[Schema]) -> None:
    """A query parameter ``query`` does not declare is a 422 naming it, as in a body: a
    misspelt filter (``?colection=books``) must not answer with every record."""
    unknown = sorted(set(request.GET) - set(query.model_fields))
    if unknown:
        raise ValidationError(
            [{"loc": ("query", name), "msg": "Extra inputs are not permitted"} for name in unknown]
        )


class ErrorItem(Schema):
    field: str = Field(description="Where in the request, e.g. `body.records.2.title`.")
    message: str


class Error(Schema):
    detail: str
    errors: list[ErrorItem] = []


class CollectionOut(Schema):
    slug: str
    name: str
    description: str
    is_public: bool
    licence: str
    records: int


class Provenance(Schema):
    source: Literal["import", "model", "human"]
    date: str = Field(description="When the value was set (ISO 8601).")
    action: str | None = None
    confidence: float | None = None
    model_version: int | None = None
    user: str | None = None


class ValueOut(Schema):
    label: str
    name: str = Field(description="The label's name, e.g. 'German' for 'deu'.")
    provenance: Provenance


class RecordOut(Schema):
    code: UUID
    identifier: str
    collection: str
    title: str
    description: str
    extra: dict[str, str | int | float | bool | None | list[object] | dict[str, object]]
    values: dict[str, ValueOut] = Field(description="Current values by field key.")


class RecordPage(Schema):
    count: int
    items: list[RecordOut]


class RecordIn(Strict):
    identifier: Key
    title: Text = ""
    description: Text = ""
    values: Annotated[dict[str, Key], AfterValidator(_check_keys)] = Field(
        default={},
        description="Field key to label, e.g. {'language': 'ger'}; stored as imported.",
        json_schema_extra={"propertyNames": KEY_NAMES},
    )
    extra: Annotated[dict[str, Text], AfterValidator(_check_keys)] = Field(
        default={},
        description="Other columns, kept with the record.",
        json_schema_extra={"propertyNames": KEY_NAMES},
    )


class RecordsIn(Strict):
    records: list[RecordIn] = Field(min_length=1, max_length=MAX_RECORDS)


class SubmitOut(Schema):
    created: int
    updated: int
    unchanged: int
    values_set: int
    values_kept_human: int = Field(description="Imported values not stored: a person decided.")
    records: list[UUID] = Field(description="The records' codes, in the order submitted.")


class Alternative(Schema):
    label: str
    confidence: float


class PredictionOut(Schema):
    code: UUID
    record: UUID
    field: str
    label: str
    confidence: float
    alternatives: list[Alternative]
    status: str
    routed_by: str
    model_version: int
    review_round: int
    flagged: bool
    created_at: datetime


class PredictionPage(Schema):
    count: int
    items: list[PredictionOut]


class DecisionIn(Strict):
    action: Literal["accept", "correct", "reject"]
    label: Annotated[str, StringConstraints(max_length=50, pattern=NO_NUL)] = Field(
        default="", description="The correct label; required to correct."
    )
    review_round: int | None = Field(
        default=None,
        ge=0,
        description="The prediction's review_round when you read it: if it moved on since "
        "(decided by someone else, or flagged again), the decision is refused with 409.",
    )


class DecisionOut(Schema):
    code: UUID
    prediction: UUID
    action: str
    label: str
    status: str = Field(description="The prediction's status after the decision.")
    reviewer: str
    created_at: datetime


class PredictIn(Strict):
    field: Slug = "language"
    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS)
    k: int = Field(default=3, ge=1, le=10, description="How many labels per text, best first.")


class Guess(Schema):
    label: str
    name: str
    confidence: float


class PredictOut(Schema):
    field: str
    model_version: int
    predictions: list[list[Guess]] = Field(description="For each text, the labels best first.")
