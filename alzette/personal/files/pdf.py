"""PDF documents (receipts, decisions) from a small document model, with reportlab.

Other apps describe a document as data (``Document`` and its blocks) and call
``render_pdf``; the layout lives here only. Text is real text in an embedded
Unicode font (DejaVu Sans, shipped in ``fonts/``), so every language of the
platform prints, copy-paste works and screen readers can read it. reportlab's
open-source toolkit does not write tagged PDF (no structure tree): see
docs/files.md.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, SimpleDocTemplate, Spacer
from reportlab.platypus import Paragraph as RLParagraph
from reportlab.platypus import Table as RLTable

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
SANS, SANS_BOLD, MONO = "AlzetteSans", "AlzetteSans-Bold", "AlzetteMono"
CREATOR = "Alzette"
_MARGIN = 20 * mm
_FRAME_WIDTH = A4[0] - 2 * _MARGIN
_GREY = colors.HexColor("#555555")
_LINE = colors.HexColor("#999999")
_BOX = colors.HexColor("#F2F4F7")


# --- The document model ----------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str  # plain text; line breaks are kept


@dataclass(frozen=True)
class Fields:
    """Label and value pairs, e.g. the answers of a procedure."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    header: Sequence[str]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class LedgerReceipt:
    """Where the document's transaction sits in the public ledger (docs/ledger.md)."""

    leaf_index: int
    tree_size: int
    root_hash: str
    entry_hash: str
    verify_url: str

    @classmethod
    def from_receipt(cls, receipt: Mapping[str, Any], verify_url: str) -> LedgerReceipt:
        """From a ledger receipt as ``alzette.ledger.services.record`` returns it
        (``receipt.as_dict()``): the entry hash is the receipt's leaf hash."""
        head = receipt["tree_head"]
        return cls(
            leaf_index=receipt["leaf_index"],
            tree_size=head["tree_size"],
            root_hash=head["root_hash"],
            entry_hash=receipt["leaf_hash"],
            verify_url=verify_url,
        )


Block = Heading | Paragraph | Fields | Table | LedgerReceipt


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str = ""
    blocks: Sequence[Block] = field(default_factory=tuple)
    footer: str = ""
    language: str = "fr"  # the PDF's /Lang, and the language of the fixed texts


# --- Fonts and styles ------------------------------------------------------------------


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(SANS, str(FONTS_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(SANS_BOLD, str(FONTS_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(MONO, str(FONTS_DIR / "DejaVuSansMono.ttf")))
    # <b> in paragraphs picks the bold face of the family.
    pdfmetrics.registerFontFamily(
        SANS, normal=SANS, bold=SANS_BOLD, italic=SANS, boldItalic=SANS_BOLD
    )


@cache
def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=SANS, fontSize=10, leading=14, spaceAfter=4)
    return {
        "body": body,
        "title": ParagraphStyle("title", body, fontName=SANS_BOLD, fontSize=18, leading=23),
        "subtitle": ParagraphStyle("subtitle", body, fontSize=11, textColor=_GREY, spaceAfter=10),
        "heading": ParagraphStyle(
            "heading", body, fontName=SANS_BOLD, fontSize=13, leading=17, spaceBefore=10
        ),
        "label": ParagraphStyle("label", body, fontName=SANS_BOLD, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", body, fontSize=9, leading=12, spaceAfter=0),
        "mono": ParagraphStyle("mono", body, fontName=MONO, fontSize=8, leading=11),
        "small": ParagraphStyle("small", body, fontSize=8, leading=10, textColor=_GREY),
    }


def _text(text: str, style: str) -> RLParagraph:
    # Paragraph reads a little markup: escape everything the caller wrote.
    return RLParagraph(escape(str(text)).replace("\n", "<br/>"), _styles()[style])


# --- Blocks to flowables ------------------------------------------------------------------


# Tables set their cells' font even around paragraphs: without this, Helvetica,
# which the PDF would reference without embedding.
_TABLE_FONT = [("FONTNAME", (0, 0), (-1, -1), SANS)]


def _fields(block: Fields) -> Flowable:
    rows = [[_text(label, "label"), _text(value, "cell")] for label, value in block.items]
    table = RLTable(rows, colWidths=[_FRAME_WIDTH * 0.35, _FRAME_WIDTH * 0.65])
    table.setStyle(
        [
            *_TABLE_FONT,
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, _LINE),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ]
    )
    return table


def _table(block: Table) -> Flowable:
    header = [_text(cell, "label") for cell in block.header]
    rows = [[_text(cell, "cell") for cell in row] for row in block.rows]
    table = RLTable([header, *rows], repeatRows=1, colWidths=_FRAME_WIDTH / len(block.header))
    table.setStyle(
        [
            *_TABLE_FONT,
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.25, _LINE),
            ("BACKGROUND", (0, 0), (-1, 0), _BOX),
        ]
    )
    return table


def _receipt(block: LedgerReceipt) -> Flowable:
    link = (
        f'<link href={quoteattr(block.verify_url)} color="#1a4fa0">'
        f"<u>{escape(block.verify_url)}</u></link>"
    )
    content: list[Flowable] = [
        _text(_("Ledger receipt"), "heading"),
        _text(
            _(
                "This document's transaction is recorded in Alzette's public ledger, an "
                "append-only log that anyone can audit. To check it, open the address below, "
                "or ask the ledger's public API for the proof that the entry hash is included "
                "at this position in the tree of this size, and compare the root hash."
            ),
            "small",
        ),
    ]
    for label, value in (
        (_("Position in the ledger"), str(block.leaf_index)),
        (_("Ledger size"), str(block.tree_size)),
        (_("Root hash"), block.root_hash),
        (_("Entry hash"), block.entry_hash),
    ):
        content += [_text(label, "label"), _text(value, "mono")]
    content += [_text(_("Check it at"), "label"), RLParagraph(link, _styles()["cell"])]
    box = RLTable([[content]], colWidths=[_FRAME_WIDTH])
    box.setStyle(
        [
            *_TABLE_FONT,
            ("BOX", (0, 0), (-1, -1), 1, _LINE),
            ("BACKGROUND", (0, 0), (-1, -1), _BOX),
            ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ]
    )
    return KeepTogether([Spacer(1, 8), box])


def _flowables(block: Block) -> list[Flowable]:
    match block:
        case Heading(text):
            return [_text(text, "heading")]
        case Paragraph(text):
            return [_text(text, "body")]
        case Fields():
            return [_fields(block), Spacer(1, 6)]
        case Table():
            return [_table(block), Spacer(1, 6)] if block.header else []
        case LedgerReceipt():
            return [_receipt(block)]
    raise TypeError(f"Unknown block {block!r}")


# --- Rendering ------------------------------------------------------------------------


def _footer(document: Document) -> Any:
    page_label = _("Page %(number)d")  # translated now: pages are drawn later

    def draw(canvas: Canvas, template: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(SANS, 8)
        canvas.setFillColor(_GREY)
        canvas.drawString(_MARGIN, 12 * mm, document.footer)
        canvas.drawRightString(
            A4[0] - _MARGIN, 12 * mm, page_label % {"number": canvas.getPageNumber()}
        )
        canvas.restoreState()

    return draw


def render_pdf(document: Document) -> bytes:
    """The PDF of ``document``: A4, embedded fonts, title, language and creator set."""
    _register_fonts()
    buffer = io.BytesIO()
    with translation.override(document.language):
        template = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=_MARGIN,
            bottomMargin=_MARGIN + 8 * mm,
            title=document.title,
            subject=document.subtitle,
            author=CREATOR,
            creator=CREATOR,
            lang=document.language,
            displayDocTitle=True,
            # Otherwise the canvas starts in Helvetica, a font the PDF would only reference.
            initialFontName=SANS,
        )
        story: list[Flowable] = [_text(document.title, "title")]
        if document.subtitle:
            story.append(_text(document.subtitle, "subtitle"))
        for block in document.blocks:
            story += _flowables(block)
        footer = _footer(document)
        template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
