"""Small real files of every accepted type, hostile ones, and a multipart form built by hand
(so that a test controls every byte of a file name)."""

from __future__ import annotations

import io
import struct
import uuid
import zipfile
import zlib

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def png() -> bytes:
    """A 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xdb\x00\x43\x00"
    + bytes(range(1, 65))
    + b"\xff\xd9"
)

_OOXML = {
    "docx": ("word/document.xml", "wordprocessingml.document"),
    "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet"),
    "pptx": ("ppt/presentation.xml", "presentationml.presentation"),
}


def ooxml(kind: str, *, main: bytes = b"<document/>", macros: bool = False) -> bytes:
    """A minimal Word, Excel or PowerPoint file (``kind``: docx, xlsx, pptx)."""
    part, name = _OOXML[kind]
    content_type = f"application/vnd.openxmlformats-officedocument.{name}.main+xml"
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(part, main)
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def odf(kind: str = "text") -> bytes:
    """A minimal OpenDocument file (``kind``: text, spreadsheet, presentation, graphics)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), f"application/vnd.oasis.opendocument.{kind}")
        archive.writestr("META-INF/manifest.xml", "<manifest/>", compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", "<office:document/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


TEXT = "Compte rendu de la réunion du 3 mars : rien à signaler.\n".encode()
CSV = "commune;surface (m²)\nCauterets;1200\nLourdes;950\n".encode("cp1252")

#: (name, content, type the server must find) for every accepted type.
ACCEPTED = [
    ("plan-de-situation.pdf", PDF, "application/pdf"),
    ("photo.png", png(), "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("notice.odt", odf("text"), "application/vnd.oasis.opendocument.text"),
    ("budget.ods", odf("spreadsheet"), "application/vnd.oasis.opendocument.spreadsheet"),
    ("présentation.odp", odf("presentation"), "application/vnd.oasis.opendocument.presentation"),
    (
        "notice.docx",
        ooxml("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "budget.xlsx",
        ooxml("xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "projet.pptx",
        ooxml("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("compte-rendu.txt", TEXT, "text/plain"),
    ("surfaces.csv", CSV, "text/csv"),
]

#: A Windows program (its DOS header and PE signature), named as a PDF.
EXECUTABLE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + bytes(44)
    + (b"\x80\x00\x00\x00" + bytes(64) + b"PE\x00\x00\x4c\x01\x03\x00" + bytes(200))
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)


def zip_bomb_docx(megabytes: int = 64) -> bytes:
    """A Word file whose main part inflates to ``megabytes`` of zeros (a ratio near 1000)."""
    buffer = io.BytesIO()
    part, name = _OOXML["docx"]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        content_type = f"application/vnd.openxmlformats-officedocument.{name}.main+xml"
        archive.writestr(
            "[Content_Types].xml",
            f'<Types><Override PartName="/{part}" ContentType="{content_type}"/></Types>',
        )
        with archive.open(part, "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(megabytes):
                member.write(zeros)
    return buffer.getvalue()


def form(file: tuple[str | bytes, bytes] | None, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body (and its Content-Type header), the file name sent as is."""
    boundary = f"accelerator-{uuid.uuid4().hex}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    if file is not None:
        name, content = file
        raw = name.encode() if isinstance(name, str) else name
        parts.append(
            f"--{boundary}\r\n".encode()
            + b'Content-Disposition: form-data; name="file"; filename="'
            + raw
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
