"""The text catalogue: every sentence a user reads is looked up here by key, in French.

API errors, CLI help, e-mails and pages name a message by a dotted key
(``t("dossier.not_found")``); its wording lives in one gettext catalogue,
``locale/fr/LC_MESSAGES/accelerator.po``, read with Babel. Parameters are named and filled
with ``str.format`` (``t("version.conflict", what="Le dossier", current=3, expected=2)``).

A key missing from the catalogue is a programming error: ``tests/test_text_catalogue.py``
checks that every key the code names exists with the parameters it is given, and that the
catalogue holds no message nobody uses.
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
    """The French text of ``key``, with ``params`` filled in."""
    text = messages()[key]
    return text.format(**params) if params else text
