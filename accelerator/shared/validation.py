"""The shared types every input model is built from: texts, codes, numbers, dates, choices.

One place decides what a user may send. Input models are strict (:data:`STRICT_INPUT`:
``true`` is not 1, ``"yes"`` is not a boolean) and forbid unknown fields; every string, list
and mapping is bounded where it is declared (``Field(max_length=...)``: a test walks the
OpenAPI schema and fails on an unbounded one). FastAPI validates bodies in Python mode (after
``json.loads``), where strict mode would refuse an ISO date, a UUID or an enum given as a
string: the types below for those take a string only, and parse it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from enum import Enum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, Strict

from accelerator.shared.text import t

#: The configuration of every input model.
STRICT_INPUT = ConfigDict(strict=True, extra="forbid")

#: Query parameters: the largest ``offset`` a list accepts (beyond 64 bits, the database fails).
MAX_OFFSET = 10_000_000

#: Bidirectional embeddings, overrides and isolates make a text read other than it is
#: ("Trojan source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _forbidden(char: str, *, multiline: bool) -> bool:
    if multiline and char in "\n\t":
        return False
    if char in _BIDI_CONTROLS:
        return True
    # Cc: C0/C1 controls (NUL included: PostgreSQL cannot store it); Cs: lone surrogates
    # (``"\ud800"`` is valid JSON but not UTF-8); noncharacters U+FDD0-FDEF, U+xFFFE/xFFFF.
    code = ord(char)
    return (
        unicodedata.category(char) in ("Cc", "Cs")
        or 0xFDD0 <= code <= 0xFDEF
        or (code & 0xFFFE) == 0xFFFE
    )


def clean_text(value: str, *, multiline: bool) -> str:
    """``value`` in Unicode NFC and stripped; ``ValueError`` (French) on a control character."""
    if multiline:
        value = value.replace("\r\n", "\n")
    bad = next((c for c in value if _forbidden(c, multiline=multiline)), None)
    if bad is not None:
        allowed = t("validation.control_character_allowed") if multiline else ""
        raise ValueError(t("validation.control_character", code=ord(bad), allowed=allowed))
    return unicodedata.normalize("NFC", value).strip()


def _single(value: object) -> object:
    # Before the string's own checks, so that its length bounds count the cleaned text; a
    # non-string is left to strict mode, which refuses it ("texte attendu").
    return clean_text(value, multiline=False) if isinstance(value, str) else value


def _multi(value: object) -> object:
    return clean_text(value, multiline=True) if isinstance(value, str) else value


#: A one-line text: NFC, stripped, no control character. Bound it: ``Field(max_length=...)``.
SingleLine = Annotated[str, BeforeValidator(_single), Strict()]

#: A text of several lines (``\n`` and ``\t`` allowed, ``\r\n`` read as ``\n``), else as
#: :data:`SingleLine`.
MultiLine = Annotated[str, BeforeValidator(_multi), Strict()]

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")


def _code(value: object) -> object:
    if not isinstance(value, str):
        return value
    cleaned = value.strip()
    # ASCII first: ``str.upper`` turns some non-ASCII letters into ASCII ones (``ſ`` → ``S``).
    if not cleaned.isascii() or not _CODE.fullmatch(cleaned):
        raise ValueError(t("validation.code_invalid"))
    return cleaned.upper()


#: A catalogue code (procedure, administration, calendar...): ASCII, upper-cased.
Code = Annotated[str, BeforeValidator(_code), Strict()]

_INSEE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}")

INSEE_FORMAT = t("validation.insee_format")


def insee_code(value: str) -> str:
    """``value`` as a well-formed INSEE code (upper-cased), else ``ValueError`` in French.

    ASCII only: ``\\d`` would match every script's digits (full-width ``６５１３８``).
    """
    cleaned = value.strip()
    if len(cleaned) != 5 or not cleaned.isascii() or not _INSEE.fullmatch(cleaned.upper()):
        raise ValueError(INSEE_FORMAT)
    return cleaned.upper()


def _insee(value: object) -> object:
    return insee_code(value) if isinstance(value, str) else value


#: An INSEE commune code, well formed; whether the commune exists is the catalogue's to say.
InseeCode = Annotated[str, BeforeValidator(_insee), Strict(), Field(max_length=5)]


def _number(value: object) -> object:
    # ``json.loads`` reads ``Infinity`` and ``NaN`` (refused by ``allow_inf_nan``); an int is
    # a valid float, a bool is not.
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > 10**15:
            raise ValueError("nombre trop grand")
        return float(value)
    return value


#: A finite number (``Infinity``, ``NaN``, ``true`` and ``"1"`` refused). Bound it: ``ge``/``le``.
FiniteFloat = Annotated[float, BeforeValidator(_number), Strict(), Field(allow_inf_nan=False)]


def _string_of(kind: str, native: type) -> Any:
    def check(value: object) -> object:
        if isinstance(value, native):  # a Python caller's own object
            return value
        if not isinstance(value, str):
            raise ValueError(t("validation.text_expected", kind=kind))
        if len(value) > 64:
            raise ValueError(t("validation.kind_invalid", kind=kind))
        return value

    return BeforeValidator(check)


#: A date as JSON carries it: an ISO 8601 string (``2026-05-15``).
IsoDate = Annotated[dt.date, _string_of("date ISO 8601 (AAAA-MM-JJ)", dt.date), Strict(False)]

#: An identifier as JSON carries it: a UUID string.
Identifier = Annotated[uuid.UUID, _string_of("identifiant", uuid.UUID), Strict(False)]


def choice(enum: type[Enum]) -> Any:
    """Metadata for an enum field: ``Annotated[MyEnum, choice(MyEnum)]`` takes the enum's
    string value (strict mode wants the enum object itself, which JSON cannot carry)."""
    values = {member.value: member for member in enum}

    def parse(value: object) -> object:
        if isinstance(value, enum):
            return value
        if isinstance(value, str) and value in values:
            return values[value]
        raise ValueError(t("validation.choice_not_allowed", expected=", ".join(map(str, values))))

    return BeforeValidator(parse)


#: Lets a field parse its string (a mapping's integer keys: JSON keys are strings).
Lax = Strict(False)


def _clock_time(value: str) -> str:
    if not re.fullmatch(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00", value):
        raise ValueError(t("validation.clock_time"))
    return value


#: A time of day as ``HH:MM`` (``24:00`` ends a day).
ClockTime = Annotated[str, Strict(), Field(max_length=5), AfterValidator(_clock_time)]

#: One interval of working hours: ``["08:30", "12:00"]``.
Interval = Annotated[tuple[ClockTime, ClockTime], Strict(False)]


MAX_PAGE = 500
