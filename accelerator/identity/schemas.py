"""How people are shown to others."""

from __future__ import annotations

from pydantic import BaseModel


class PersonOut(BaseModel):
    """A person shown to others: e-mail and name."""

    email: str
    name: str
