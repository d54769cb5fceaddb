"""MARC 21 (ISO 2709 binary, with MARC-8 or UTF-8, and MARCXML) as rows for the importer.

A MARC record becomes the same row an import from CSV gives: ``identifier`` (001), ``title``
(245 $a $b), ``description`` (the 5xx notes), ``language`` (008/35-37, else the first 041 $a,
as a stored code), and the record's other texts under the names other parts read from
``Record.extra``: ``title_original_script`` (the 880 linked to 245), ``other_titles`` (246, 240),
``place`` and ``publisher`` (260, else 264), ``date`` (008/07-10) and ``subjects`` (6xx).
A column named like a MARC field (``655``, ``655a``, ``655$a``) is read from the record too,
so ``--map genre=655a`` works as it does for a CSV column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pymarc
from django.utils import timezone
from lxml import etree
from pymarc import Field, Indicators, Subfield
from pymarc import exceptions as marc_errors

from catalogue.interop.records import ExportRecord, Value
from glamml.ml.languages import (
    UnknownLanguageError,
    is_training_language,
    normalise_catalogue_language,
    to_marc,
)

MARCXML_NS = "http://www.loc.gov/MARC21/slim"
JOIN = " | "
COLUMNS = (
    "identifier",
    "title",
    "description",
    "language",
    "title_original_script",
    "other_titles",
    "place",
    "publisher",
    "date",
    "subjects",
)
# Where each column comes from, for messages that name the MARC field.
MARC_SOURCES = {
    "identifier": "001",
    "title": "245 $a $b",
    "description": "5xx $a",
    "language": "008/35-37 (or 041 $a)",
    "title_original_script": "880 linked to 245",
    "other_titles": "246, 240",
    "place": "260/264 $a",
    "publisher": "260/264 $b",
    "date": "008/07-10",
    "subjects": "6xx $a",
}
SPEC = re.compile(r"^(?P<tag>\d{3})\$?(?P<code>[a-z0-9])?$")
_TRAILING = re.compile(r"\s*[/:;,=]+\s*$")
_FINAL_PERIOD = re.compile(r"(?<=[^\s.]{4})\.$")

_READER_ERRORS = {
    marc_errors.RecordLengthInvalid: "the record length in the leader (bytes 0-4) is not a number",
    marc_errors.TruncatedRecord: "the file ends before the record length in the leader (bytes "
    "0-4) says the record does: a truncated file, or a wrong length",
    marc_errors.EndOfRecordNotFound: "the record does not end with the record terminator (0x1D) "
    "where the record length in the leader (bytes 0-4) says: a wrong length, or a damaged file",
    marc_errors.RecordLeaderInvalid: "the leader is not 24 characters long",
    marc_errors.BaseAddressInvalid: "the base address of data (leader 12-16) is wrong",
    marc_errors.BaseAddressNotFound: "the base address of data (leader 12-16) is missing",
    marc_errors.RecordDirectoryInvalid: "the directory is broken (its length is not a multiple "
    "of 12, or an entry points outside the record)",
    marc_errors.NoFieldsFound: "the record has no fields",
}


class MarcError(ValueError):
    """A file or record that cannot be read as MARC; the message names where."""


def _clean(text: str) -> str:
    """A field's text without the ISBD punctuation that ends it (`` /``, `` :``, a period)."""
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _TRAILING.sub("", text)
        text = _FINAL_PERIOD.sub("", text)
    return text.strip()


def _subfields(field: pymarc.Field, *codes: str) -> str:
    return _clean(" ".join(v.strip() for v in field.get_subfields(*codes) if v.strip()))


def _control(record: pymarc.Record, tag: str) -> str:
    fields = record.get_fields(tag)
    return (fields[0].data or "") if fields else ""


def _joined(values: Iterable[str]) -> str:
    return JOIN.join(dict.fromkeys(v for v in values if v))


def _language(record: pymarc.Record) -> tuple[str, str]:
    """The record's language as a stored code, and the code as catalogued if it is not one.

    008/35-37 comes first; blanks and fill characters (``|||``) mean "not coded", and then the
    first 041 $a is used (its first three letters: ``engfre`` is an old packed form).
    """
    fixed = _control(record, "008")
    candidates = [fixed[35:38]] if len(fixed) >= 38 else []
    candidates += [a.strip()[:3] for f in record.get_fields("041") for a in f.get_subfields("a")]
    unknown = ""
    for raw in candidates:
        code = raw.strip().lower()
        if len(code) != 3 or not code.isalpha():
            continue
        try:
            return normalise_catalogue_language(code, marc=True), ""
        except UnknownLanguageError:
            unknown = unknown or raw
    return "", unknown


def _linked_880(record: pymarc.Record, tag: str) -> list[pymarc.Field]:
    return [f for f in record.get_fields("880") if (f.get("6") or "").startswith(tag)]


def _publication(record: pymarc.Record) -> pymarc.Field | None:
    for_260 = record.get_fields("260")
    if for_260:
        return for_260[0]
    for_264 = record.get_fields("264")
    published = [f for f in for_264 if f.indicator2 == "1"]
    chosen = published or for_264
    return chosen[0] if chosen else None


def _spec_value(record: pymarc.Record, spec: str) -> str:
    match = SPEC.match(spec)
    if match is None:
        return ""
    tag, code = match["tag"], match["code"]
    fields = record.get_fields(tag)
    if tag < "010":
        return _joined(f.data or "" for f in fields)
    return _joined(_subfields(f, code) if code else _clean(f.value()) for f in fields)


def record_row(record: pymarc.Record, *, specs: Iterable[str] = ()) -> dict[str, str]:
    """The importer's row for one MARC record (empty strings where the record has nothing)."""
    title = next((_subfields(f, "a", "b") for f in record.get_fields("245")), "")
    original = next((_subfields(f, "a", "b") for f in _linked_880(record, "245")), "")
    publication = _publication(record)
    date = _control(record, "008")[7:11]
    language, unknown = _language(record)
    row = {
        "identifier": _control(record, "001").strip(),
        "title": title,
        "description": _joined(
            " ".join(a.split())
            for f in record.get_fields(*(str(t) for t in range(500, 600)))
            for a in f.get_subfields("a")
        ),
        "language": language,
        "title_original_script": original if original != title else "",
        "other_titles": _joined(
            [_subfields(f, "a", "b") for f in record.get_fields("246")]
            + [_subfields(f, "a") for f in record.get_fields("240")]
        ),
        "place": _subfields(publication, "a") if publication else "",
        "publisher": _subfields(publication, "b") if publication else "",
        "date": date if re.fullmatch(r"\d[\du|]{3}", date) else "",
        "subjects": _joined(
            _subfields(f, "a") for f in record.get_fields(*(str(t) for t in range(600, 700)))
        ),
    }
    if unknown:
        # Kept, not imported as a language: the MARC list has no such code.
        row["language_as_catalogued"] = unknown
    for spec in specs:
        if SPEC.match(spec):
            row[spec] = _spec_value(record, spec)
    return row


def _where(number: int, record: pymarc.Record | None = None, line: int | None = None) -> str:
    parts = [f"record {number}"]
    if line:
        parts.append(f"line {line}")
    if record is not None and _control(record, "001").strip():
        parts.append(f"001 {_control(record, '001').strip()!r}")
    return ", ".join(parts)


def _binary_records(path: Path) -> Iterator[tuple[str, pymarc.Record]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise MarcError(f"{path}: cannot read the file ({exc.strerror}).") from None
    with handle:
        # Permissive: a broken record comes back as None with its exception, so the message can
        # say which record it was instead of stopping at an anonymous traceback.
        reader = pymarc.MARCReader(handle, to_unicode=True, utf8_handling="strict", permissive=True)
        for number, record in enumerate(reader, start=1):
            if record is None:
                problem = reader.current_exception
                reason = _READER_ERRORS.get(type(problem))
                if reason is None:
                    if isinstance(problem, UnicodeDecodeError):
                        reason = (
                            "the leader says UTF-8 (leader 09 'a') but the record is not "
                            f"valid UTF-8 (byte 0x{problem.object[problem.start]:02x})"
                        )
                    else:
                        reason = f"it cannot be read ({type(problem).__name__}: {problem})"
                raise MarcError(f"{path}, record {number}: {reason}.")
            yield _where(number, record), record


def _xml_records(path: Path) -> Iterator[tuple[str, pymarc.Record]]:
    number = 0
    try:
        events = etree.iterparse(
            str(path), events=("start", "end"), huge_tree=True, resolve_entities=False
        )
        root_seen = False
        for event, element in events:
            if event == "start":
                if not root_seen:
                    root_seen = True
                    namespace = etree.QName(element).namespace
                    if namespace != MARCXML_NS:
                        raise MarcError(
                            f"{path}, line {element.sourceline}: the root element "
                            f"<{etree.QName(element).localname}> is in namespace "
                            f"{namespace or '(none)'!r}; MARCXML must use {MARCXML_NS!r}."
                        )
                continue
            if element.tag != f"{{{MARCXML_NS}}}record":
                continue
            number += 1
            record = xml_record(
                element, where=f"{path}, record {number}, line {element.sourceline}"
            )
            yield _where(number, record, element.sourceline), record
            element.clear()
    except OSError as exc:
        raise MarcError(f"{path}: cannot read the file ({exc}).") from None
    except etree.XMLSyntaxError as exc:
        raise MarcError(f"{path}, line {exc.lineno}: not well-formed XML ({exc.msg}).") from None


def xml_record(element: Any, *, where: str) -> pymarc.Record:
    """A pymarc record from a MARCXML ``<record>`` element; ``where`` names it in messages."""
    ns = f"{{{MARCXML_NS}}}"
    record = pymarc.Record()
    leader = element.findtext(f"{ns}leader")
    if leader is not None:
        if len(leader) != 24:
            raise MarcError(
                f"{where}: the leader has {len(leader)} characters; a MARC leader has 24."
            )
        record.leader = pymarc.Leader(leader)
    for child in element:
        tag = child.get("tag", "")
        if child.tag == f"{ns}controlfield":
            record.add_field(Field(tag=tag, data=child.text or ""))
        elif child.tag == f"{ns}datafield":
            record.add_field(
                pymarc.Field(
                    tag=tag,
                    indicators=pymarc.Indicators(child.get("ind1", " "), child.get("ind2", " ")),
                    subfields=[
                        pymarc.Subfield(code=s.get("code", ""), value=s.text or "")
                        for s in child.iterfind(f"{ns}subfield")
                    ],
                )
            )
    return record


def marc_rows(
    path: Path, *, fmt: str, specs: Iterable[str] = ()
) -> Iterator[tuple[str, dict[str, str]]]:
    """The rows of a MARC or MARCXML file: first the header, then ``(where, row)`` per record.

    ``where`` names the record ("record 3, 001 'ocm123'") for messages. Raises
    :class:`MarcError` naming the file and record for anything that cannot be read.
    """
    specs = [s for s in specs if SPEC.match(s)]
    yield "", {c: c for c in (*COLUMNS, *specs)}
    records = _xml_records(path) if fmt == "marcxml" else _binary_records(path)
    for where, record in records:
        yield where, record_row(record, specs=specs)


# -- writing -------------------------------------------------------------------------------------


def marc_language_code(code: str) -> str:
    """The MARC code for a stored code: collective and special codes are their own MARC codes;
    a language without one (an ISO 639-3 individual language) is ``mis``, uncoded."""
    try:
        return to_marc(code)
    except UnknownLanguageError:
        pass
    try:
        stored = normalise_catalogue_language(code)
    except UnknownLanguageError:
        return "mis"
    return stored if not is_training_language(stored) else "mis"


def _fixed_field(item: ExportRecord, language: str) -> str:
    entered = timezone.localtime(item.record.created_at).strftime("%y%m%d")
    date = item.text("date")
    date = date if re.fullmatch(r"\d[\du|]{3}", date) else ""
    # 00-05 entered, 06 type of date, 07-10 date 1, 11-14 date 2, 15-17 place, 18-34 (books)
    # blank, 35-37 language, 38 modified record, 39 cataloguing source (d: other).
    return f"{entered}{'s' if date else 'n'}{date or 'uuuu'}    xx {' ' * 17}{language or '   '} d"


def _provenance_883(value: Value, link: int, agency: str) -> pymarc.Field:
    subfields = [
        Subfield("8", f"{link}\\p"),
        Subfield("a", f"glamml {value.model}".strip()),
    ]
    if value.confidence is not None:
        subfields.append(Subfield("c", f"{value.confidence:.4f}"))
    subfields.append(Subfield("d", value.date[:10].replace("-", "")))
    if agency:
        subfields.append(Subfield("q", agency))
    return pymarc.Field(tag="883", indicators=Indicators("0", " "), subfields=subfields)


def _descriptive_fields(item: ExportRecord) -> list[Field]:
    """Other titles (246), publication (260), notes (500) and subjects (653), in tag order."""
    fields = [
        Field(tag="246", indicators=Indicators("3", " "), subfields=[Subfield("a", other)])
        for other in item.texts("other_titles")
    ]
    place, publisher, date = item.text("place"), item.text("publisher"), item.text("date")
    if place or publisher:
        subfields = [Subfield("a", place)] if place else []
        subfields += [Subfield("b", publisher)] if publisher else []
        subfields += [Subfield("c", date)] if date else []
        fields.append(Field(tag="260", indicators=Indicators(" ", " "), subfields=subfields))
    fields += [
        Field(tag="500", indicators=Indicators(" ", " "), subfields=[Subfield("a", note)])
        for note in filter(None, (n.strip() for n in item.record.description.split(JOIN)))
    ]
    fields += [
        Field(tag="653", indicators=Indicators(" ", " "), subfields=[Subfield("a", subject)])
        for subject in item.texts("subjects")
    ]
    return fields


def record_to_marc(item: ExportRecord, *, agency: str = "") -> pymarc.Record:
    """A MARC 21 record of what glamml holds: the language in 008/35-37 and 041, other fields
    as 655 genre/form terms, and an 883 for every value a model applied, linked by $8."""
    record, r = pymarc.Record(force_utf8=True), item.record
    record.leader = pymarc.Leader("     nam a22     uu 4500")
    language = next((v for v in item.values.values() if v.field.kind == "language"), None)
    code = marc_language_code(language.label) if language else ""
    record.add_field(Field(tag="001", data=r.identifier))
    record.add_field(Field(tag="008", data=_fixed_field(item, code)))
    provenance: list[pymarc.Field] = []

    def link(value: Value) -> list[Subfield]:
        if value.source != "model":
            return []
        number = len(provenance) + 1
        provenance.append(_provenance_883(value, number, agency))
        return [Subfield("8", f"{number}\\p")]

    if language:
        record.add_field(
            Field(
                tag="041",
                indicators=Indicators(" ", " "),
                subfields=[*link(language), Subfield("a", code)],
            )
        )
    original = item.text("title_original_script")
    title = [Subfield("a", r.title or "[No title]")]
    if original:
        title.insert(0, Subfield("6", "880-01"))
    record.add_field(Field(tag="245", indicators=Indicators("0", "0"), subfields=title))
    for field in _descriptive_fields(item):
        record.add_field(field)
    for value in item.values.values():
        if value.field.kind == "language":
            continue
        record.add_field(
            Field(
                tag="655",
                indicators=Indicators(" ", "4"),
                subfields=[*link(value), Subfield("a", value.name)],
            )
        )
    if original:
        record.add_field(
            Field(
                tag="880",
                indicators=Indicators("0", "0"),
                subfields=[Subfield("6", "245-01"), Subfield("a", original)],
            )
        )
    for field in provenance:
        record.add_field(field)
    return record
