"""What a file is, read from its content (never from its name), and what its name may be.

Accepted: PDF, PNG, JPEG, OpenDocument (text, spreadsheet, presentation, drawing), Office
Open XML (Word, Excel, PowerPoint), plain text and CSV. libmagic (``python-magic``) reads
the magic numbers; the two zip containers are opened and checked here, since a zip is only an
Office document if it holds one:

- OOXML: ``[Content_Types].xml`` declares the main part of a Word, Excel or PowerPoint file,
  and that part is in the archive; macro-enabled documents (``vbaProject.bin``) are refused;
- ODF: the first entry is ``mimetype``, stored uncompressed, naming an OpenDocument type, and
  ``META-INF/manifest.xml`` is there; documents with Basic or script macros are refused;
- any zip: bounded entry count, total uncompressed size and compression ratio (zip bombs),
  no encrypted entry, no duplicate name, no absolute or ``..`` path, and every entry
  decompressed once (bounded by the declared sizes) so that its CRC proves those sizes true.

Text is text if all of it decodes as UTF-8 (a BOM allowed) or Windows-1252 with no control
character but tab, line feed, carriage return and form feed; a text starting with ``#!`` is a
script and refused. Its ``.csv`` name makes it ``text/csv``, else ``text/plain``.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

import magic

from accelerator.shared.errors import AcceleratorError, InvalidInput
from accelerator.shared.text import t


class UnsupportedType(AcceleratorError):
    """The file's content is not of a type the platform accepts (415)."""

    status_code = 415


class TooLarge(AcceleratorError):
    """The file, or the dossier with it, passes the size limit (413)."""

    status_code = 413


PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
ODG = "application/vnd.oasis.opendocument.graphics"

#: Every type a stored document may have (the download answers with it).
ACCEPTED = (PDF, PNG, JPEG, ODT, ODS, ODP, ODG, DOCX, XLSX, PPTX, TEXT, CSV)

ACCEPTED_LABEL = t("document.accepted_formats")

#: What libmagic names the binary types taken as they are.
_BINARY = {PDF: PDF, PNG: PNG, JPEG: JPEG}

#: libmagic's names of programs (refused with their own message).
_EXECUTABLES = frozenset(
    {
        "application/x-dosexec",
        "application/x-executable",
        "application/x-pie-executable",
        "application/x-sharedlib",
        "application/x-mach-binary",
        "application/x-msdownload",
        "application/vnd.microsoft.portable-executable",
        "application/x-elf",
        "application/java-archive",
        "application/x-java-applet",
    }
)

#: OOXML: the main part of each accepted document and its declared content type.
_OOXML_MAIN = {
    "word/document.xml": (
        DOCX,
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "xl/workbook.xml": (
        XLSX,
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    "ppt/presentation.xml": (
        PPTX,
        b"application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
_ODF = frozenset({ODT, ODS, ODP, ODG})

#: Zip containers: more entries, more bytes once decompressed, or a higher ratio is refused.
MAX_ENTRIES = 5_000
MAX_UNCOMPRESSED = 512 * 1024 * 1024
MAX_RATIO = 100
#: Below this total, a high ratio is harmless (small files of repeated text compress well).
RATIO_FLOOR = 16 * 1024 * 1024
_CONTENT_TYPES_MAX = 1024 * 1024

#: Bytes of the start of a file given to libmagic.
HEAD_BYTES = 64 * 1024
_CHUNK = 1024 * 1024

#: A file name is kept for display: at most this many characters.
MAX_NAME = 200

#: What a text document may not hold: control characters (C0 but tab, line feed, form feed
#: and carriage return; DEL; C1) and the noncharacters U+FFFE/U+FFFF.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class Detected:
    """A file's type, and a text's encoding."""

    content_type: str
    charset: str | None = None


def clean_filename(raw: str) -> str:
    """The name to show for an uploaded file: NFC, trimmed, at most :data:`MAX_NAME`
    characters (its extension kept); ``InvalidInput`` for a path, a control character or an
    empty name."""
    name = unicodedata.normalize("NFC", raw).strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") or c in _BIDI_CONTROLS for c in name):
        raise InvalidInput(t("document.filename_control_character"))
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith(".."):
        raise InvalidInput(t("document.filename_with_path"))
    name = name.strip(". ")
    if not name:
        raise InvalidInput(t("document.filename_missing"))
    if len(name) > MAX_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME].rstrip()
    return name


def detect(path: Path, *, head: bytes, filename: str) -> Detected:
    """The type of the file at ``path`` (``head``: its first bytes), or ``UnsupportedType``."""
    if not head:
        raise InvalidInput(t("document.file_empty"))
    guessed = magic.from_buffer(head[:HEAD_BYTES], mime=True)
    if guessed in _EXECUTABLES or head.startswith((b"MZ", b"\x7fELF")):
        raise UnsupportedType(t("document.type_executable"))
    if head.startswith(b"PK\x03\x04"):
        return Detected(_zip_container(path))
    if guessed in _BINARY:
        return Detected(_BINARY[guessed])
    charset = _text_charset(path)
    if charset is None:
        raise UnsupportedType(t("document.type_refused", guessed=guessed, accepted=ACCEPTED_LABEL))
    if head.lstrip(b"\xef\xbb\xbf").startswith(b"#!"):
        raise UnsupportedType(t("document.type_script"))
    is_csv = filename.lower().endswith(".csv") or guessed in ("text/csv", "application/csv")
    return Detected(CSV if is_csv else TEXT, charset)


def _refuse(reason: str) -> UnsupportedType:
    return UnsupportedType(t("document.archive_refused", reason=reason))


def _zip_container(path: Path) -> str:
    """The Office type of the zip at ``path``, checked (see the module's docstring)."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            _check_bounds(path, entries)
            names = [entry.filename for entry in entries]
            if "[Content_Types].xml" in names:
                kind = _ooxml(archive, names)
            elif names and names[0] == "mimetype":
                kind = _odf(archive, entries)
            else:
                raise UnsupportedType(t("document.type_zip_refused", accepted=ACCEPTED_LABEL))
            _verify(archive, entries)
            return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, ValueError):
        raise _refuse(t("document.archive_unreadable")) from None
    except RuntimeError:  # an encrypted entry read without its password
        raise _refuse(t("document.archive_encrypted")) from None


def _check_bounds(path: Path, entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_ENTRIES:
        raise _refuse(t("document.archive_too_many_entries", max_entries=MAX_ENTRIES))
    names = [entry.filename for entry in entries]
    if len(set(names)) != len(names):
        raise _refuse(t("document.archive_duplicate_names"))
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise _refuse(t("document.archive_encrypted"))
        parts = entry.filename.replace("\\", "/").split("/")
        if entry.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
            raise _refuse(t("document.archive_bad_path"))
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED:
        raise _refuse(t("document.archive_too_large", megabytes=MAX_UNCOMPRESSED >> 20))
    if total > RATIO_FLOOR and total > MAX_RATIO * max(path.stat().st_size, 1):
        raise _refuse(t("document.archive_ratio", max_ratio=MAX_RATIO))


def _read_bounded(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with archive.open(name) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise _refuse(f"« {name} » trop volumineux")
    return data


def _ooxml(archive: zipfile.ZipFile, names: list[str]) -> str:
    declared = _read_bounded(archive, "[Content_Types].xml", _CONTENT_TYPES_MAX)
    if b"macroEnabled" in declared or any(n.lower().endswith("vbaproject.bin") for n in names):
        raise UnsupportedType(t("document.type_office_macros"))
    present = set(names)
    for main, (kind, content_type) in _OOXML_MAIN.items():
        if main in present and content_type in declared:
            return kind
    raise UnsupportedType(t("document.type_ooxml_unknown"))


def _odf(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> str:
    first = entries[0]
    if first.compress_type != zipfile.ZIP_STORED:
        raise _refuse(t("document.archive_odf_mimetype_compressed"))
    kind = _read_bounded(archive, "mimetype", 100).decode("ascii", errors="replace").strip()
    names = {entry.filename for entry in entries}
    if kind not in _ODF or "META-INF/manifest.xml" not in names:
        raise UnsupportedType(t("document.type_odf_unknown"))
    if any(name.startswith(("Basic/", "Scripts/")) for name in names):
        raise UnsupportedType(t("document.type_macros"))
    return kind


def _verify(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    """Decompress every entry once: its CRC proves the declared size, which bounds the work."""
    for entry in entries:
        with archive.open(entry) as member:
            while member.read(_CHUNK):
                pass


def _text_charset(path: Path) -> str | None:
    """``utf-8`` or ``windows-1252`` if the whole file is text in that encoding, else None."""
    for charset in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(charset)()
        try:
            with path.open("rb") as file:
                while chunk := file.read(_CHUNK):
                    if not _is_text(decoder.decode(chunk)):
                        return None
                if not _is_text(decoder.decode(b"", final=True)):
                    return None
        except UnicodeDecodeError:
            continue
        return "utf-8" if charset == "utf-8-sig" else "windows-1252"
    return None


def _is_text(text: str) -> bool:
    return _NOT_TEXT.search(text) is None
