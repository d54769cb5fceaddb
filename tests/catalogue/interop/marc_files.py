"""Small MARC records and files that tests build themselves (no binary fixtures in the repo)."""

from __future__ import annotations

from pathlib import Path

import pymarc
from pymarc import Field, Indicators, Subfield


def fixed_field(*, language: str = "ger", date: str = "1875") -> str:
    """A 40-character 008 with Date 1 at 07-10 and the language at 35-37."""
    return f"850101s{date}    gw            000 0 {language} d"


def book(
    identifier: str,
    title: str,
    *,
    language: str = "ger",
    subtitle: str = "",
    original_script: str = "",
    notes: tuple[str, ...] = (),
    subjects: tuple[str, ...] = (),
    place: str = "Leipzig :",
    publisher: str = "Teubner,",
    languages_041: tuple[str, ...] = (),
    marc8: bool = False,
) -> pymarc.Record:
    # MARC-8: the leader's 09 is blank and the text is raw MARC-8 bytes (a str of Latin-1
    # code points: "M\xe8uller" is M, the combining umlaut 0xE8, uller, which reads "Müller").
    record = pymarc.Record(to_unicode=not marc8, force_utf8=not marc8)
    if marc8:
        record.leader = pymarc.Leader(record.leader[:9] + " " + record.leader[10:])
    record.add_field(Field(tag="001", data=identifier))
    record.add_field(Field(tag="008", data=fixed_field(language=language)))
    if languages_041:
        record.add_field(
            Field(
                tag="041",
                indicators=Indicators("0", " "),
                subfields=[Subfield("a", c) for c in languages_041],
            )
        )
    title_subfields = [Subfield("a", title + (" :" if subtitle else " /"))]
    if subtitle:
        title_subfields.append(Subfield("b", subtitle + " /"))
    if original_script:
        title_subfields.insert(0, Subfield("6", "880-01"))
    record.add_field(Field(tag="245", indicators=Indicators("1", "0"), subfields=title_subfields))
    if original_script:
        record.add_field(
            Field(
                tag="880",
                indicators=Indicators("1", "0"),
                subfields=[Subfield("6", "245-01"), Subfield("a", original_script + " /")],
            )
        )
    record.add_field(
        Field(
            tag="260",
            indicators=Indicators(" ", " "),
            subfields=[Subfield("a", place), Subfield("b", publisher), Subfield("c", "1875.")],
        )
    )
    for note in notes:
        record.add_field(
            Field(tag="500", indicators=Indicators(" ", " "), subfields=[Subfield("a", note)])
        )
    for subject in subjects:
        record.add_field(
            Field(
                tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", subject + ".")]
            )
        )
    return record


def write_marc(path: Path, records: list[pymarc.Record]) -> Path:
    with path.open("wb") as handle:
        for record in records:
            handle.write(record.as_marc())
    return path


def write_marcxml(path: Path, records: list[pymarc.Record]) -> Path:
    writer = pymarc.XMLWriter(path.open("wb"))
    for record in records:
        writer.write(record)
    writer.close()
    return path
