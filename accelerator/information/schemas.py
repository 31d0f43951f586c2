"""Requests for information: what the référent sends, what the holder answers."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class InformationRequestIn(BaseModel):
    """A request for missing documents or information."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=3, max_length=20_000)
    pieces: list[str] = Field(default_factory=list, max_length=50)
    consultation_id: uuid.UUID | None = Field(
        None, description="Pour relayer la demande d'une administration sur sa consultation."
    )


class AnswerIn(BaseModel):
    """The holder's answer."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=20_000)


class InformationRequestOut(BaseModel):
    """A request and its answer, as shown on the dossier."""

    id: str
    consultation_id: str | None
    administration: str | None
    message: str
    pieces: list[str]
    requested_at: str
    answered_at: str | None
    answer: str | None
    effects: list[str]
