"""What a file is comes from its content: zip containers opened and bounded, text checked
whole, names cleaned (pure rules on files written by the test)."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest

from accelerator.documents import filetypes
from accelerator.documents.filetypes import UnsupportedType, clean_filename, detect
from accelerator.shared.errors import InvalidInput
from tests import samples

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")


def kind_of(tmp_path: Path, content: bytes, name: str = "fichier") -> str:
    path = tmp_path / "upload"
    path.write_bytes(content)
    return detect(path, head=content[: filetypes.HEAD_BYTES], filename=name).content_type


def archive(entries: list[tuple[str, bytes]], *, first_stored: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for index, (name, data) in enumerate(entries):
            stored = first_stored and index == 0
            zipped.writestr(name, data, compress_type=zipfile.ZIP_STORED if stored else None)
    return buffer.getvalue()


DOCX_TYPES = samples.ooxml("docx")


def _docx_with(*extra: tuple[str, bytes]) -> bytes:
    with zipfile.ZipFile(io.BytesIO(DOCX_TYPES)) as original:
        entries = [(i.filename, original.read(i)) for i in original.infolist()]
    return archive(entries + list(extra))


def test_office_documents_are_recognised_by_their_parts(tmp_path: Path) -> None:
    assert kind_of(tmp_path, samples.ooxml("xlsx"), "x.docx") == filetypes.XLSX
    assert kind_of(tmp_path, samples.odf("graphics")) == filetypes.ODG


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (archive([("a.txt", b"a")]), "archive zip"),
        (
            archive([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<d/>")]),
            "non reconnu",
        ),
        # The content type declared, the main part absent.
        (
            archive(
                [("[Content_Types].xml", DOCX_TYPES[:0] + b"wordprocessingml.document.main+xml")]
            ),
            "non reconnu",
        ),
        (archive([("mimetype", b"application/vnd.oasis.opendocument.text")]), "sans compression"),
        (
            archive(
                [("mimetype", b"application/x-evil"), ("META-INF/manifest.xml", b"<m/>")],
                first_stored=True,
            ),
            "OpenDocument non reconnu",
        ),
        (
            archive(
                [
                    ("mimetype", b"application/vnd.oasis.opendocument.text"),
                    ("META-INF/manifest.xml", b"<m/>"),
                    ("Basic/Standard/Module1.xml", b"<script/>"),
                ],
                first_stored=True,
            ),
            "macros",
        ),
        (_docx_with(("../../evil.sh", b"x")), "chemin"),
        (_docx_with(("/etc/passwd", b"x")), "chemin"),
        (_docx_with(("word/document.xml", b"again")), "même nom"),
    ],
)
def test_zip_containers_that_are_not_office_documents_are_refused(
    tmp_path: Path, content: bytes, says: str
) -> None:
    with pytest.raises(UnsupportedType, match=says):
        kind_of(tmp_path, content, "notice.docx")


def test_too_many_entries_is_a_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filetypes, "MAX_ENTRIES", 10)
    content = _docx_with(*((f"word/media/{i}.xml", b"x") for i in range(10)))
    with pytest.raises(UnsupportedType, match="entrées"):
        kind_of(tmp_path, content)


def test_a_total_size_past_the_bound_is_a_bomb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(filetypes, "MAX_UNCOMPRESSED", 1 << 20)
    content = _docx_with(("word/media/big.bin", bytes(2 << 20)))
    with pytest.raises(UnsupportedType, match="décompressée"):
        kind_of(tmp_path, content)


def test_a_high_ratio_is_a_bomb_only_past_the_floor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _docx_with(("word/media/zeros.bin", bytes(4 << 20)))
    assert kind_of(tmp_path, small) == filetypes.DOCX
    monkeypatch.setattr(filetypes, "RATIO_FLOOR", 1 << 20)
    with pytest.raises(UnsupportedType, match="bombe"):
        kind_of(tmp_path, small)


def _patch_declared_size(content: bytes, name: bytes, size: int) -> bytes:
    """``content`` with the uncompressed size of entry ``name`` rewritten (both headers)."""
    data = bytearray(content)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (at := data.find(signature, start)) >= 0:
            name_offset = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_offset : name_offset + len(name)] == name:
                data[at + offset : at + offset + 4] = struct.pack("<I", size)
            start = at + 4
    return bytes(data)


def test_an_entry_lying_about_its_size_is_refused(tmp_path: Path) -> None:
    honest = _docx_with(("word/media/data.bin", bytes(100_000)))
    liar = _patch_declared_size(honest, b"word/media/data.bin", 1000)
    with pytest.raises(UnsupportedType, match="corrompu"):
        kind_of(tmp_path, liar)


def test_an_encrypted_entry_is_refused(tmp_path: Path) -> None:
    content = bytearray(_docx_with(("word/secret.xml", b"x")))
    # Set the "encrypted" flag of every entry in the central directory.
    start = 0
    while (at := content.find(b"PK\x01\x02", start)) >= 0:
        content[at + 8] |= 0x1
        start = at + 4
    with pytest.raises(UnsupportedType, match="chiffrée"):
        kind_of(tmp_path, bytes(content))


@pytest.mark.parametrize(
    ("content", "charset"),
    [
        (b"\xef\xbb\xbfBonjour\r\n", "utf-8"),
        ("Département;Surface\n65;1 200 m²\n".encode("cp1252"), "windows-1252"),
        ("tabulé\tet\fsaut\n".encode(), "utf-8"),
    ],
)
def test_text_is_text_in_utf_8_or_windows_1252(
    tmp_path: Path, content: bytes, charset: str
) -> None:
    path = tmp_path / "t"
    path.write_bytes(content)
    detected = detect(path, head=content, filename="t.txt")
    assert (detected.content_type, detected.charset) == ("text/plain", charset)


@pytest.mark.parametrize(
    "content",
    [b"texte\x00binaire", b"\x1b[31mrouge", "C1 \u0085 contrôle".encode(), b"\x81\x8d\x90"],
)
def test_binary_content_is_not_text(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(UnsupportedType, match="formats acceptés"):
        kind_of(tmp_path, content, "notes.txt")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  plan.pdf ", "plan.pdf"),
        ("Cafe\u0301.pdf", "Café.pdf"),
        ("...caché.pdf", None),
        ("rapport..final.pdf", "rapport..final.pdf"),
        ("a" * 500, "a" * 200),
        ("a" * 500 + ".docx", "a" * 195 + ".docx"),
    ],
)
def test_names_are_cleaned_and_bounded(raw: str, clean: str | None) -> None:
    if clean is None:
        with pytest.raises(InvalidInput):
            clean_filename(raw)
    else:
        assert clean_filename(raw) == clean


@pytest.mark.parametrize(
    "raw", ["../x.pdf", "a/b.pdf", "a\\b.pdf", "..", ".", "", "   ", "x\ty.pdf", "x\u200by.pdf"]
)
def test_paths_and_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_filename(raw)
