"""Requests for information: what the référent sends, what the holder answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from accelerator.shared.validation import STRICT_INPUT, Identifier, MultiLine, SingleLine


class InformationRequestIn(BaseModel):
    """A request for missing documents or information."""

    model_config = STRICT_INPUT

    message: MultiLine = Field(min_length=3, max_length=20_000)
    pieces: list[Annotated[SingleLine, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=50
    )
    consultation_id: Identifier | None = Field(
        None, description="Pour relayer la demande d'une administration sur sa consultation."
    )


class AnswerIn(BaseModel):
    """The holder's answer."""

    model_config = STRICT_INPUT

    message: MultiLine = Field(min_length=1, max_length=20_000)


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
