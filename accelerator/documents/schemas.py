"""Documents as the API shows them, the pieces a dossier expects, and the procedures."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DocumentOut(BaseModel):
    """A stored document: its display name, checked type, size and SHA-256."""

    id: str
    filename: str = Field(description="Le nom donné au dépôt, nettoyé, pour affichage seulement.")
    content_type: str = Field(description="Le type lu dans le contenu (jamais dans le nom).")
    size: int
    sha256: str
    piece: str | None = Field(description="La pièce attendue que ce document fournit (ex. PC1).")
    uploaded_at: str


class PieceOut(BaseModel):
    """A piece the catalogue expects for one of the dossier's procedures."""

    procedure: str
    code: str
    label: str
    mandatory: bool


class SuppliedPieceOut(PieceOut):
    """A piece supplied: its latest document and how many versions were given."""

    document_id: str
    versions: int


class PiecesOut(BaseModel):
    """A dossier's completeness: pieces expected, supplied, and mandatory ones missing."""

    expected: list[PieceOut]
    supplied: list[SuppliedPieceOut]
    missing: list[PieceOut]


class ProcedurePieceOut(BaseModel):
    """A piece of a procedure in the catalogue."""

    code: str
    label: str
    mandatory: bool
    condition: str | None = Field(
        description="Attribut du dossier qui rend la pièce attendue (sinon : toujours)."
    )


class ProcedureOut(BaseModel):
    """A procedure of the catalogue with its legal delay and its expected pieces."""

    code: str
    label: str
    duration: str | None
    silence_outcome: str
    source: str
    pieces: list[ProcedurePieceOut]
