"""Simple Dublin Core (``oai_dc``) for a record, as the OAI-PMH provider and exports write it.

The mapping follows the Library of Congress MARC-to-Dublin-Core crosswalk where it applies:
title (and the original-script and other titles) to ``dc:title``, place and publisher to
``dc:publisher``, notes to ``dc:description``, subjects to ``dc:subject``, the language as its
stored ISO 639-3 code (ISO 639-5 for a collective code) to ``dc:language``, other predicted
fields (genre, object type) to ``dc:type``.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from catalogue.interop.records import JOIN, ExportRecord

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NSMAP = {"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS}


def _items(item: ExportRecord) -> Iterable[tuple[str, str]]:
    r = item.record
    yield "title", r.title
    yield "title", item.text("title_original_script")
    for other in item.texts("other_titles"):
        yield "title", other
    for note in r.description.split(JOIN):
        yield "description", note.strip()
    place, publisher = item.text("place"), item.text("publisher")
    yield "publisher", " : ".join(p for p in (place, publisher) if p)
    yield "date", item.text("date")
    for subject in item.texts("subjects"):
        yield "subject", subject
    for value in item.values.values():
        yield (
            ("language" if value.field.kind == "language" else "type"),
            (value.label if value.field.kind == "language" else value.name),
        )
    yield "identifier", r.identifier


def record_to_dc(item: ExportRecord) -> etree._Element:
    """An ``oai_dc:dc`` element for the record."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for name, text in _items(item):
        if text and text.strip():
            etree.SubElement(root, f"{{{DC_NS}}}{name}").text = text.strip()
    return root
