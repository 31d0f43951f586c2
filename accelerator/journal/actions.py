"""Append to the configuration journal; the only writer of ``config_changes``."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from accelerator.history.actor import Actor
from accelerator.journal.kinds import FIELD_LABELS, ChangeKind
from accelerator.journal.models import ConfigChange

log = logging.getLogger("accelerator.journal")

#: Field names that never enter the journal, at any depth: a password's hash, a secret, a
#: token. A snapshot holding one is a programming error, refused before anything is written.
SECRET_FIELDS = frozenset(
    {"password", "password_hash", "secret", "token", "csrf_token", "token_hash", "api_key"}
)


def _check_no_secret(value: Any, path: str = "") -> None:
    if isinstance(value, Mapping):
        for name, inner in value.items():
            if str(name).lower() in SECRET_FIELDS:
                raise ValueError(f"journal snapshot holds a secret field: {path}{name}")
            _check_no_secret(inner, f"{path}{name}.")
    elif isinstance(value, list | tuple):
        for inner in value:
            _check_no_secret(inner, path)


def _check_labelled(kind: ChangeKind, value: Mapping[str, Any] | None) -> None:
    """Every field of a snapshot is one its kind lists: the journal shows each by its label."""
    unknown = sorted(set(value or {}) - set(FIELD_LABELS[kind]))
    if unknown:
        raise ValueError(f"journal snapshot of {kind.value} names unlabelled fields: {unknown}")


def record_change(
    session: Session,
    *,
    actor: Actor,
    at: dt.datetime,
    kind: ChangeKind,
    key: str,
    event: str,
    message: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> ConfigChange:
    """Append one journal row (who, when, what, the object before and after) to the caller's
    transaction: it commits or rolls back with the change it describes. A snapshot holding a
    secret, or a field its kind has no label for (``kinds.FIELD_LABELS``), is refused."""
    _check_no_secret(before)
    _check_no_secret(after)
    _check_labelled(kind, before)
    _check_labelled(kind, after)
    row = ConfigChange(
        at=at,
        actor_id=actor.user_id,
        actor_label=actor.label,
        kind=kind.value,
        key=key,
        event=event,
        message=message,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
    )
    session.add(row)
    log.info(
        "%s",
        message,
        extra={"event": f"config.{kind.value}.{event}", "key": key, "actor": actor.label},
    )
    return row
