"""Sample documents for the document store's tests, and what is read from each.

The builders make real files of every accepted format (PDF through
reportlab, office files as the zip of XML parts their standards define,
images through Pillow), so that sniffing and extraction are tested on the
same kind of bytes the store receives. Other test modules import them.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

import pytest
from PIL import Image

from alzette.territory.documents import extract, formats

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
PDF = "application/pdf"


def use_document_store(settings, tmp_path):
    """A documents storage of the test's own."""
    location = tmp_path / "documents"
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


def stored_files(location) -> list:
    return sorted(path for path in location.rglob("*") if path.is_file())


# --- PDF ---------------------------------------------------------------------------------


def pdf(*pages: str, title: str = "", language: str = "") -> bytes:
    """A PDF with one page per text (lines split on newlines), in Helvetica."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=True, lang=language or None)
    if title:
        canvas.setTitle(title)
    for page in pages or ("",):
        text = canvas.beginText(50, 780)
        text.setFont("Helvetica", 11)
        for line in page.split("\n"):
            text.textLine(line)
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def encrypted_pdf(text: str = "Secret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf(text))))
    writer.encrypt("user-password", "owner-password", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    """Starts like a PDF, then nothing a reader can use."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"\x00garbage that is no PDF object\n" * 50


# --- Office files ----------------------------------------------------------------------------


def _zip(parts: list[tuple[str, str | bytes]], *, stored_first: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (name, content) in enumerate(parts):
            data = content.encode() if isinstance(content, str) else content
            kind = zipfile.ZIP_STORED if stored_first and number == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, kind)
    return buffer.getvalue()


_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"


def _content_types(main: str, main_type: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_CT_NS}">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{main}" ContentType="{main_type}"/></Types>'
    )


def _core(title: str, language: str, creator: str = "Jean Dupont") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}</dc:creator>"
        f"<dc:language>{language}</dc:language>"
        "<dcterms:created>2025-03-04T10:00:00Z</dcterms:created></cp:coreProperties>"
    )


def _app(**values: int) -> str:
    items = "".join(f"<{key}>{value}</{key}>" for key, value in values.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats'
        f'.org/officeDocument/2006/extended-properties">{items}</Properties>'
    )


def docx(*paragraphs: str, title: str = "", language: str = "", macro: bool = False) -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs
    )
    main_type = (
        "application/vnd.ms-word.document.macroEnabled.main+xml" if macro else f"{DOCX}.main+xml"
    )
    return _zip(
        [
            ("[Content_Types].xml", _content_types("/word/document.xml", main_type)),
            ("_rels/.rels", "<Relationships/>"),
            (
                "word/document.xml",
                f'<w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>',
            ),
            ("docProps/core.xml", _core(title, language)),
            ("docProps/app.xml", _app(Pages=3, Words=120)),
        ]
    )


def xlsx(*strings: str, sheets: tuple[str, ...] = ("Données",)) -> bytes:
    s = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    items = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    sheet_list = "".join(
        f'<sheet name="{escape(name)}" sheetId="{n}"/>' for n, name in enumerate(sheets, 1)
    )
    return _zip(
        [
            ("[Content_Types].xml", _content_types("/xl/workbook.xml", f"{XLSX}.main+xml")),
            ("xl/workbook.xml", f'<workbook xmlns="{s}"><sheets>{sheet_list}</sheets></workbook>'),
            ("xl/sharedStrings.xml", f'<sst xmlns="{s}">{items}</sst>'),
        ]
    )


def pptx(*slides: str) -> bytes:
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    parts: list[tuple[str, str | bytes]] = [
        ("[Content_Types].xml", _content_types("/ppt/presentation.xml", f"{PPTX}.main+xml")),
        ("ppt/presentation.xml", "<presentation/>"),
    ]
    for number, text in enumerate(slides, 1):
        parts.append(
            (
                f"ppt/slides/slide{number}.xml",
                f'<sld xmlns:a="{a}"><a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p></sld>',
            )
        )
    return _zip(parts)


_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)


def _odf(mime: str, body: str, title: str, language: str) -> bytes:
    meta = (
        f"<office:document-meta {_ODF_NS}><office:meta><dc:title>{escape(title)}</dc:title>"
        f"<dc:language>{language}</dc:language><meta:initial-creator>Jean Dupont"
        "</meta:initial-creator><meta:creation-date>2025-02-01T09:00:00</meta:creation-date>"
        '<meta:document-statistic meta:page-count="2" meta:word-count="42"/>'
        "</office:meta></office:document-meta>"
    )
    return _zip(
        [
            ("mimetype", mime),
            (
                "content.xml",
                f"<office:document-content {_ODF_NS}><office:body>{body}"
                "</office:body></office:document-content>",
            ),
            ("meta.xml", meta),
        ],
        stored_first=True,
    )


def odt(*paragraphs: str, title: str = "", language: str = "") -> bytes:
    body = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
    return _odf(ODT, f"<office:text>{body}</office:text>", title, language)


def ods(*cells: str, sheets: int = 1) -> bytes:
    rows = "".join(
        f"<table:table-row><table:table-cell><text:p>{escape(cell)}</text:p>"
        "</table:table-cell></table:table-row>"
        for cell in cells
    )
    tables = "".join(f'<table:table table:name="S{n}">{rows}</table:table>' for n in range(sheets))
    return _odf(ODS, f"<office:spreadsheet>{tables}</office:spreadsheet>", "", "")


def odp(*slides: str) -> bytes:
    pages = "".join(
        f'<draw:page draw:name="p{n}"><draw:frame><draw:text-box><text:p>{escape(text)}'
        "</text:p></draw:text-box></draw:frame></draw:page>"
        for n, text in enumerate(slides)
    )
    return _odf(ODP, f"<office:presentation>{pages}</office:presentation>", "", "")


# --- Images ----------------------------------------------------------------------------------


def image(kind: str = "PNG", size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(buffer, kind)
    return buffer.getvalue()


# --- What the store reads from them ---------------------------------------------------------


def _read(content: bytes) -> tuple[str | None, extract.Extracted | None]:
    buffer = io.BytesIO(content)
    media_type = formats.sniff(buffer)
    if media_type not in formats.FORMATS:
        return media_type, None
    return media_type, extract.extract(media_type, buffer, max_chars=100_000)


@pytest.mark.parametrize(
    ("content", "media_type", "text", "technical"),
    [
        (
            pdf("Plan climat", "Énergie des bâtiments"),
            PDF,
            "Énergie des bâtiments",
            {"page_count": 2},
        ),
        (
            docx("Rénovation énergétique", "Deuxième paragraphe"),
            DOCX,
            "Rénovation énergétique\nDeuxième paragraphe",
            {"page_count": 3, "word_count": 120},
        ),
        (
            xlsx("Consommation", "Éclairage public", sheets=("A", "B")),
            XLSX,
            "Consommation\nÉclairage public",
            {"sheet_count": 2},
        ),
        (
            pptx("Windpark Audun", "Genehmigung"),
            PPTX,
            "Windpark Audun\nGenehmigung",
            {"slide_count": 2},
        ),
        (odt("Straße und Gebäude"), ODT, "Straße und Gebäude", {"page_count": 2, "word_count": 42}),
        (ods("Budget", sheets=3), ODS, "Budget", {"sheet_count": 3}),
        (odp("One", "Two"), ODP, "One\nTwo", {"slide_count": 2}),
        (image("PNG", (40, 30)), "image/png", "", {"width": 40, "height": 30}),
        (image("JPEG"), "image/jpeg", "", {"width": 32, "height": 24}),
        (image("WEBP"), "image/webp", "", {"width": 32, "height": 24}),
        (image("GIF"), "image/gif", "", {"width": 32, "height": 24}),
        (image("TIFF"), "image/tiff", "", {"width": 32, "height": 24}),
    ],
    ids=["pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "png", "jpeg", "webp", "gif", "tiff"],
)
def test_each_format_is_recognised_and_read(content, media_type, text, technical):
    sniffed, found = _read(content)
    assert sniffed == media_type
    assert text in found.text if text else found.text == ""
    assert technical.items() <= found.technical.items()
    assert found.technical["text_characters"] == len(found.text)


def test_declared_title_and_language_are_read_but_not_persons():
    _type, found = _read(docx("Texte", title="Plan local d'urbanisme", language="fr-FR"))
    assert (found.title, found.language) == ("Plan local d'urbanisme", "fr-FR")
    assert found.technical["created"] == "2025-03-04T10:00:00Z"
    assert "Jean Dupont" not in str(found.technical)
    _type, found = _read(odt("Text", title="Windpark", language="de"))
    assert (found.title, found.language) == ("Windpark", "de")
    _type, found = _read(pdf("Texte", title="Rapport", language="fr-FR"))
    assert (found.title, found.language) == ("Rapport", "fr-FR")


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00" * 200,  # a zip header and nothing
        _zip([("readme.txt", "hello")]),  # a plain zip
        _zip([("mimetype", "application/epub+zip"), ("a.xhtml", "<html/>")], stored_first=True),
        docx("macro", macro=True),  # macro-enabled: refused as another type
        b"<!DOCTYPE html><html></html>",
        b"just some text",
    ],
    ids=["broken-zip", "zip", "epub", "docm", "html", "text"],
)
def test_other_files_are_not_recognised(content):
    sniffed, _found = _read(content)
    assert sniffed not in formats.FORMATS


def test_damaged_files_are_unreadable():
    for content, code in (
        (corrupt_pdf(), "corrupt"),
        (encrypted_pdf(), "encrypted"),
        (image("PNG")[:60], "corrupt"),
        (docx("x")[:-40], "corrupt"),
    ):
        buffer = io.BytesIO(content)
        media_type = formats.sniff(buffer) or PDF
        with pytest.raises(extract.Unreadable) as caught:
            extract.extract(media_type, buffer, max_chars=1000)
        assert caught.value.code == code, content[:20]


def test_office_xml_with_a_dtd_is_refused():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>"
    )
    content = _zip(
        [
            ("[Content_Types].xml", _content_types("/word/document.xml", f"{DOCX}.main+xml")),
            ("word/document.xml", bomb),
        ]
    )
    with pytest.raises(extract.Unreadable):
        extract.extract(DOCX, io.BytesIO(content), max_chars=1000)


def test_an_archive_that_unpacks_too_far_is_refused(monkeypatch):
    monkeypatch.setattr(extract, "MAX_UNPACKED_BYTES", 10_000)
    content = docx("x" * 50_000)
    with pytest.raises(extract.Unreadable):
        extract.extract(DOCX, io.BytesIO(content), max_chars=1_000_000)


def test_text_is_cleaned_and_cut():
    assert extract.clean_text("a\x00b\r\nc\ud800 \n\n\n\ne\u0301") == "a b\nc\n\n\u00e9"
    buffer = io.BytesIO(docx("word " * 1000))
    assert len(extract.extract(DOCX, buffer, max_chars=50).text) == 50


def test_names_are_cleaned_and_extensions_checked():
    assert formats.display_name("C:\\Users\\x\\Plan PLU\u202e.PDF", PDF) == "Plan PLU.pdf"
    assert formats.display_name("rapport", PDF) == "rapport.pdf"
    assert formats.extension_matches("photo.JPEG", "image/jpeg")
    assert formats.extension_matches("sans extension", "image/jpeg")
    assert not formats.extension_matches("photo.pdf", "image/jpeg")
