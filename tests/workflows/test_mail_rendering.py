"""E-mails are rendered from the text catalogue: the HTML part escapes what the data brings,
never the catalogue's own sentences (workflows/mailer.py)."""

from __future__ import annotations

from typing import Any

import pytest

from accelerator.notifications.actions import Template
from accelerator.shared import text
from workflows import mailer

CONTEXT: dict[str, Any] = {
    "recipient_name": "Zoé <Martin>",
    "reference": "ACC-2026-0001",
    "title": "Hôtel <b>d'Aure</b> & spa",
    "dossier_url": "https://acc.test/api/v1/dossiers/1?a=1&b=2",
    "due_at": None,
    "kind_label": "Prise en charge",
    "message": "Le plan <masse> & l'étude",
    "pieces": ["plan <masse>"],
    "summary": "2 avis favorables",
    "type": "avis simple",
    "silence": "favorable",
    "reason": "Projet abandonné",
    "author": "Jean Dupont",
    "referent_name": "Ana",
    "referent_email": "ana@p.test",
    "to_name": "Léa",
    "from_name": None,
    "by_name": "Chef",
    "from_email": None,
    "to_email": "b@x.test",
    "items": [{"subject": "Sujet", "text": "Texte"}],
    "week": "2026-W48",
    "pack_url": "https://acc.test/pilotage/revues/2026-W48.pdf",
}


TEMPLATES = sorted(p.stem for p in mailer.TEMPLATES.glob("*.j2") if not p.stem.startswith("_"))


def test_each_notification_has_its_template() -> None:
    assert sorted([*Template, "digest"]) == TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_its_sentences_from_the_catalogue(template: str) -> None:
    mail = mailer.render(template, "x@y.test", CONTEXT)
    assert mail.subject and "{" not in mail.subject
    assert mail.text.startswith(text.t("mail.layout.greeting", name="Zoé <Martin>"))
    assert "{" not in mail.text and "{" not in mail.html
    assert text.t("mail.layout.brand") in mail.html
    assert text.t("mail.layout.footer") in mail.html


def test_the_html_part_escapes_the_data_and_keeps_the_catalogue_text() -> None:
    mail = mailer.render("dossier_closed", "x@y.test", CONTEXT)
    sentence = text.t("mail.dossier_closed.answer", reference="ACC-2026-0001", title="{title}")
    before, after = sentence.split("{title}")
    assert "'" in before  # « l'État »: written as the catalogue has it, not as &#39;
    escaped = "Hôtel &lt;b&gt;d&#39;Aure&lt;/b&gt; &amp; spa"
    assert f"<p>{before}{escaped}{after}</p>" in mail.html
    assert "<b>" not in mail.html and "Le plan &lt;masse&gt; &amp; l&#39;étude" in mail.html
    assert f"{before}Hôtel <b>d'Aure</b> & spa{after}" in mail.text  # plain text as given
    assert "?a=1&amp;b=2" in mail.html and "?a=1&b=2" in mail.text


def test_the_due_date_falls_back_to_the_dossier_and_the_choices_pick_whole_sentences() -> None:
    mail = mailer.render("reminder", "x@y.test", CONTEXT)
    due = text.t("mail.reminder.due", due_at=text.t("mail.common.due_unknown"))
    assert due in mail.text and due in mail.html
    handed = mailer.render("referent_handed_over", "x@y.test", {**CONTEXT, "from_name": "Marc"})
    assert "(il était suivi par Marc)" in handed.text
    assert "(il était suivi par" not in mailer.render("referent_handed_over", "x", CONTEXT).text
    nobody = mailer.render("take_charge_reoffered", "x", {**CONTEXT, "to_email": None})
    assert text.t("mail.take_charge_reoffered.nobody") in nobody.text


def test_no_mail_message_holds_markup() -> None:
    # The HTML part takes the catalogue's sentences as written (only the data is escaped): a
    # « < », « & » or « " » there would be read as HTML.
    marked = {
        key: message
        for key, message in text.messages().items()
        if key.startswith("mail.") and any(c in message for c in '<>&"')
    }
    assert not marked
