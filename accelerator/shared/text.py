"""The text catalogue: every sentence a user reads is looked up here by key, in French.

API errors, CLI help, e-mails and pages name a message by a dotted key
(``t("dossier.not_found")``); its wording lives in one gettext catalogue,
``locale/fr/LC_MESSAGES/accelerator.po``, read with Babel. Parameters are named and filled
with ``str.format`` (``t("version.conflict", what="Le dossier", current=3, expected=2)``).

To add a message, add a ``msgid "area.what"`` / ``msgstr "…"`` entry to the catalogue and
name its key in the code. A key missing from the catalogue is a programming error:
``tests/test_text_catalogue.py`` checks that every key the code names exists with the
parameters it is given, that the catalogue holds no message nobody uses, and that no French
sentence is written in the code instead of the catalogue.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGE = "fr"
CATALOGUE = Path(__file__).parent / "locale" / LANGUAGE / "LC_MESSAGES" / "accelerator.po"


@cache
def messages() -> dict[str, str]:
    """The catalogue's messages by key (read once per process)."""
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file, locale=LANGUAGE)
    return {str(m.id): str(m.string) for m in catalogue if m.id and m.string}


def t(key: str, /, **params: object) -> str:
    """The French text of ``key``, with ``params`` filled in (``{{`` is a literal brace)."""
    return messages()[key].format(**params)


def t_template(key: str, /) -> str:
    """The message of ``key`` with its ``{placeholders}`` left for the caller to fill.

    For tables of templates filled later from data that only the caller holds (pydantic's
    error context, a sentence completed per dossier); ``t`` is for everything else.
    """
    return messages()[key]
