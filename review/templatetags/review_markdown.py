"""A small, safe subset of Markdown for showing generated documents (model cards) in a page.

Everything is escaped first; only headings, paragraphs, lists, pipe tables, fenced code,
``code``, **bold**, *emphasis* and http(s) links are turned into HTML. Enough for text the
app writes itself, not a general Markdown renderer.
"""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(.+?)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])[*_](?![\s*_])(.+?)(?<![\s*_])[*_](?![\w*])")
LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
TOKEN = re.compile(r"\x00(\d+)\x00")
CELL_SPLIT = re.compile(r"(?<!\\)\|")


def _inline(text: str) -> str:
    """Escape, then mark up code spans (left alone inside), bold, emphasis and links."""
    pieces = []
    for i, part in enumerate(CODE.split(text)):
        if i % 2:
            pieces.append(f"<code>{escape(part)}</code>")
            continue
        # Backslash-escaped characters are set aside, so they are shown and never mark anything up.
        part = ESCAPED.sub(lambda m: f"\x00{ord(m.group(1))}\x00", part)
        html = str(escape(part))
        html = LINK.sub(r'<a href="\2" rel="noopener">\1</a>', html)
        html = BOLD.sub(r"<strong>\1</strong>", html)
        html = EMPHASIS.sub(r"<em>\1</em>", html)
        html = TOKEN.sub(lambda m: str(escape(chr(int(m.group(1))))), html)
        pieces.append(html)
    return "".join(pieces)


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [cell.strip() for cell in CELL_SPLIT.split(line)]


def _table(lines: list[str]) -> str:
    head, body = lines[0], [line for line in lines[1:] if not TABLE_RULE.match(line)]
    numeric = re.compile(r"^[-+]?\d[\d.,]*%?$|^[—–]$")
    out = ['<div class="table-wrap"><table class="table table-compact"><thead><tr>']
    out += [f'<th scope="col">{_inline(c)}</th>' for c in _cells(head)]
    out.append("</tr></thead><tbody>")
    for line in body:
        out.append("<tr>")
        for i, cell in enumerate(_cells(line)):
            if i == 0:
                out.append(f'<th scope="row">{_inline(cell)}</th>')
            else:
                css = ' class="num"' if numeric.match(cell) else ""
                out.append(f"<td{css}>{_inline(cell)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def markdown_to_html(text: str, *, shift: int = 0) -> str:
    """Render ``text``; ``shift`` demotes headings (``# `` becomes ``<h2>`` with shift 1)."""
    lines = text.splitlines()
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("```"):
            flush()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append(f"<pre><code>{escape(chr(10).join(block))}</code></pre>")
            i += 1
            continue
        heading = HEADING.match(line)
        if heading:
            flush()
            level = min(6, len(heading.group(1)) + shift)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            i += 1
            continue
        if line.lstrip().startswith("|"):
            flush()
            block = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                block.append(lines[i])
                i += 1
            out.append(_table(block))
            continue
        for pattern, tag in ((BULLET, "ul"), (NUMBERED, "ol")):
            if pattern.match(line):
                flush()
                items = []
                while i < len(lines) and pattern.match(lines[i]):
                    item = pattern.match(lines[i]).group(1)  # type: ignore[union-attr]
                    i += 1
                    # Indented continuation lines belong to the item.
                    while i < len(lines) and lines[i].startswith("  ") and lines[i].strip():
                        if BULLET.match(lines[i]) or NUMBERED.match(lines[i]):
                            break
                        item += " " + lines[i].strip()
                        i += 1
                    items.append(f"<li>{_inline(item)}</li>")
                out.append(f"<{tag}>{''.join(items)}</{tag}>")
                break
        else:
            if line.strip():
                paragraph.append(line.strip())
            else:
                flush()
            i += 1
    flush()
    return "\n".join(out)


@register.filter
def markdown_subset(text: str | None, shift: int = 1) -> SafeString:
    """``{{ card_markdown|markdown_subset }}``: the safe subset above, headings demoted."""
    return mark_safe(markdown_to_html(text or "", shift=int(shift)))  # noqa: S308 - escaped
