"""PDF documents: every value printed, in every language of the platform, with metadata."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from alzette.ledger import services as ledger
from alzette.personal.files import pdf
from alzette.personal.files.pdf import (
    Document,
    Fields,
    Heading,
    LedgerReceipt,
    Paragraph,
    Table,
    render_pdf,
)
from tests.conftest import ALL_DATABASES

NAMES = "Élise Müller, Luxembourg, São João, Ëmmer"

#: A receipt's texts as the procedures engine would write them, one per language.
TEXTS = {
    "fr": ("Accusé de réception", "Inscription à la crèche", "Votre demande a été reçue."),
    "de": ("Empfangsbestätigung", "Anmeldung für die Kinderkrippe", "Ihr Antrag ist eingegangen."),
    "lb": ("Empfangsbestätegung", "Umeldung an der Crèche", "Är Demande ass ukomm."),
    "en": ("Acknowledgement of receipt", "Crèche pre-registration", "Your request was received."),
    "pt": ("Aviso de receção", "Pré-inscrição na creche", "O seu pedido foi recebido."),
}

#: Letters each language needs beyond ASCII, and French typography.
ALPHABETS = "àâæçéèêëîïôœùûüÿÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ «»\u2019\u202f€ äöüßÄÖÜẞ áãõóúíÁÃÕÓÚÍ"

RECEIPT = LedgerReceipt(
    leaf_index=41,
    tree_size=42,
    root_hash="3f" * 32,
    entry_hash="a7" * 32,
    verify_url="https://alzette.example.org/ledger/entries/41",
)


def _document(language: str) -> Document:
    title, subtitle, paragraph = TEXTS[language]
    return Document(
        title=title,
        subtitle=subtitle,
        language=language,
        footer=f"CCPHVA — {subtitle}",
        blocks=[
            Heading(NAMES),
            Paragraph(paragraph + "\n" + NAMES),
            Fields([("Nom / Name", "Élise Müller"), ("Commune", "Audun-le-Tiche"), ("Rue", NAMES)]),
            Table(["Pièce", "Taille"], [["São João.pdf", "12 Ko"], ["Ëmmer.png", "3 Ko"]]),
            RECEIPT,
        ],
    )


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


PAGE_ONE = {"fr": "Page 1", "de": "Seite 1", "lb": "Säit 1", "en": "Page 1", "pt": "Página 1"}


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_every_value_is_in_the_pdf_in_every_language(language):
    document = _document(language)

    text = _text(render_pdf(document))

    expected = [
        *TEXTS[language],
        document.footer,
        "Élise Müller",
        "Luxembourg",
        "São João",
        "Ëmmer",
        "Audun-le-Tiche",
        "Nom / Name",
        "Pièce",
        "São João.pdf",
        "12 Ko",
        "Ëmmer.png",
        "41",
        "42",
        RECEIPT.root_hash,
        RECEIPT.entry_hash,
        RECEIPT.verify_url,
        PAGE_ONE[language],  # the page label, in the document's language
    ]
    missing = [value for value in expected if value not in text]
    assert missing == []


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_the_pdf_carries_title_language_and_creator(language):
    reader = PdfReader(io.BytesIO(render_pdf(_document(language))))

    assert reader.metadata.title == TEXTS[language][0]
    assert reader.metadata.subject == TEXTS[language][1]
    assert reader.metadata.creator == "Alzette"
    assert reader.trailer["/Root"]["/Lang"] == language
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]


def test_the_embedded_fonts_have_a_glyph_for_every_letter_of_the_five_languages():
    # Text extraction reads the Unicode map, not the drawn glyphs: a font missing
    # "Ë" would still extract fine while printing a box. So check the fonts themselves.
    pdf.render_pdf(Document(title="x"))  # registers the fonts
    wanted = set(NAMES + ALPHABETS + "".join("".join(texts) for texts in TEXTS.values()))
    for font_name in (pdf.SANS, pdf.SANS_BOLD):
        glyphs = pdfmetrics.getFont(font_name).face.charToGlyph
        assert [char for char in sorted(wanted) if ord(char) not in glyphs] == []


def test_the_fonts_are_embedded_not_referenced():
    reader = PdfReader(io.BytesIO(render_pdf(_document("fr"))))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [font.get_object()["/FontDescriptor"] for font in fonts.values()]
    assert descriptors
    assert all("/FontFile2" in descriptor for descriptor in descriptors)


def test_text_is_printed_as_written_never_read_as_markup():
    text = _text(render_pdf(Document(title="<b>x</b> & y", blocks=[Paragraph("<link>a</link>")])))
    assert "<b>x</b> & y" in text
    assert "<link>a</link>" in text


def test_long_tables_flow_onto_more_pages_with_their_header_and_the_footer():
    rows = [[f"Ligne {n}", "Élise Müller"] for n in range(120)]
    content = render_pdf(
        Document(title="Liste", footer="Pied", blocks=[Table(["Numéro", "Nom"], rows)])
    )

    pages = PdfReader(io.BytesIO(content)).pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        page_text = page.extract_text()
        assert "Numéro" in page_text
        assert "Pied" in page_text
        assert f"Page {number}" in page_text
    assert "Ligne 119" in _text(content)


def test_an_unknown_block_is_a_programming_error():
    with pytest.raises(TypeError):
        render_pdf(Document(title="x", blocks=["not a block"]))


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_real_ledger_receipt_prints_its_position_size_and_hashes():
    receipt, _commitment = ledger.record(
        "procedure.submitted", "system:procedures", "dossier:CRE-2026-7KQ4M2XA", {"n": 1}
    )
    block = LedgerReceipt.from_receipt(receipt.as_dict(), "https://alzette.example.org/v")

    assert (block.leaf_index, block.entry_hash) == (receipt.leaf_index, receipt.leaf_hash)
    assert (block.tree_size, block.root_hash) == (
        receipt.tree_head.tree_size,
        receipt.tree_head.root_hash,
    )
    text = _text(render_pdf(Document(title="Reçu", blocks=[block])))
    for value in (str(block.leaf_index), block.root_hash, block.entry_hash, block.verify_url):
        assert value in text
