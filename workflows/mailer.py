"""French e-mails: Jinja2 templates (plain text and HTML) sent over SMTP.

Templates live in ``templates/mail/<name>.j2`` with three blocks: ``subject``, ``text`` and
``body`` (the HTML, inside a shared layout). Their sentences are the text catalogue's
``mail.<template>.<part>`` messages, named with ``t("key", param=...)``; a template holds
markup and data, never French (tests/test_text_catalogue.py). Each e-mail carries a
Message-ID derived from the outbox message, so a receiver can deduplicate a message
delivered twice.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from accelerator.shared.config import Settings
from accelerator.shared.text import t, t_template

TEMPLATES = Path(__file__).parent / "templates" / "mail"

_html = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
)
_text = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined)


def _t_html(key: str, /, **params: object) -> Markup:
    """``t`` for the HTML parts: the message is the catalogue's own text, its parameters are
    escaped (as Jinja's i18n extension does), so a sentence reads as it did written inline."""
    return Markup(t_template(key)).format(**params)


_html.globals["t"] = _t_html
_text.globals["t"] = t


@dataclass(frozen=True)
class Mail:
    """A rendered e-mail."""

    to: str
    subject: str
    text: str
    html: str


def render(template: str, to: str, context: dict[str, Any]) -> Mail:
    """Render ``template`` for one recipient (``context`` needs ``recipient_name``...)."""
    text_template = _text.get_template(f"{template}.j2")
    subject = "".join(text_template.blocks["subject"](text_template.new_context(context)))
    body = "".join(text_template.blocks["text"](text_template.new_context(context)))
    greeting = t("mail.layout.greeting", name=context.get("recipient_name", "")) + "\n\n"
    link = (
        "\n\n" + t("mail.layout.see_dossier_at", url=context["dossier_url"])
        if context.get("dossier_url")
        else ""
    )
    html = _html.get_template(f"{template}.j2").render(subject=subject, **context)
    return Mail(
        to=to, subject=" ".join(subject.split()), text=greeting + body.strip() + link, html=html
    )


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail."""

    filename: str
    media_type: str
    content: bytes


def send(
    settings: Settings,
    mail: Mail,
    *,
    message_id: str,
    attachments: Sequence[Attachment] = (),
) -> None:
    """Send one e-mail over SMTP (STARTTLS when configured), with its ``attachments``."""
    assert settings.smtp_host is not None
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.media_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_username and settings.smtp_password:
            client.login(settings.smtp_username, settings.smtp_password)
        client.send_message(message)
