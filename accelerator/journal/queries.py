"""Read the configuration journal: a page at a time, newest first, by kind."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accelerator.journal.kinds import ChangeKind
from accelerator.journal.models import ConfigChange

#: The most rows a page may ask for.
MAX_PAGE_SIZE = 100


def changes(
    session: Session, *, kind: ChangeKind | None, page: int, page_size: int
) -> tuple[int, int, Sequence[ConfigChange]]:
    """How many changes (of ``kind``) there are, the page shown (at most the last) and its
    rows, newest first (two queries)."""
    count_query = select(func.count()).select_from(ConfigChange)
    query = select(ConfigChange)
    if kind is not None:
        count_query = count_query.where(ConfigChange.kind == kind.value)
        query = query.where(ConfigChange.kind == kind.value)
    count = int(session.scalar(count_query) or 0)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = max(1, min(page, -(-count // page_size)))
    rows = session.scalars(
        query.order_by(ConfigChange.at.desc(), ConfigChange.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return count, page, rows


def edited_keys(session: Session, kind: ChangeKind) -> set[str]:
    """The keys of the objects of ``kind`` an administrator has changed (a catalogue load
    leaves those as the administrator left them)."""
    return set(session.scalars(select(ConfigChange.key).where(ConfigChange.kind == kind.value)))


def changes_of(
    session: Session, kinds: Sequence[ChangeKind], key: str, *, limit: int = 20
) -> Sequence[ConfigChange]:
    """The latest changes of one object (its kinds and key), newest first."""
    return session.scalars(
        select(ConfigChange)
        .where(ConfigChange.kind.in_([k.value for k in kinds]), ConfigChange.key == key)
        .order_by(ConfigChange.at.desc(), ConfigChange.id.desc())
        .limit(limit)
    ).all()
