"""Idempotent requests: the same key and the same request give the same answer, once.

The key is claimed (a row inserted) in the request's own transaction before the change is
made, and the answer stored in that same transaction: either both the change and the answer
are committed, or neither. A concurrent request with the same key waits on the row and then
finds the stored answer, or is refused while the first is still running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accelerator.idempotency.models import IdempotentRequest
from accelerator.shared.errors import Conflict, InvalidInput
from accelerator.shared.text import t

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Replay:
    """The stored answer of an earlier identical request."""

    status_code: int
    body: Any


def request_hash(method: str, path: str, payload: Any) -> str:
    """A stable digest of what was asked (method, path, canonical JSON body)."""
    canonical = json.dumps([method, path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session,
    *,
    user_id: uuid.UUID,
    key: str,
    method: str,
    path: str,
    digest: str,
    now: dt.datetime,
) -> Replay | None:
    """Claim ``key`` for this request; the stored answer if it was already answered."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(t("idempotency.key_invalid", max_length=MAX_KEY_LENGTH))
    existing = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
        )
    )
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    IdempotentRequest(
                        user_id=user_id, key=key, method=method, path=path,
                        request_hash=digest, created_at=now,
                    )
                )  # fmt: skip
            return None
        except IntegrityError:
            # Another request with this key committed meanwhile: read its answer.
            existing = session.scalar(
                select(IdempotentRequest).where(
                    IdempotentRequest.user_id == user_id, IdempotentRequest.key == key
                )
            )
            if existing is None:
                raise Conflict(t("idempotency.in_progress")) from None
    if existing.request_hash != digest:
        raise InvalidInput(t("idempotency.key_reused"))
    if existing.status_code is None:
        raise Conflict(t("idempotency.in_progress"))
    return Replay(existing.status_code, existing.response)


def store(session: Session, *, user_id: uuid.UUID, key: str, status_code: int, body: Any) -> None:
    """Record the answer of a claimed key (same transaction as the change)."""
    row = session.get_one(IdempotentRequest, (user_id, key))
    row.status_code, row.response = status_code, body
