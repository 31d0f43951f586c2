"""The catalogue's files are input too: a bad row is refused with its file, row and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from accelerator.catalogue.actions import SEED_DIR, load_catalogue, parse_cog
from accelerator.shared.db import Database
from accelerator.shared.errors import InvalidInput


@pytest.mark.parametrize(
    ("name", "index", "field", "value"),
    [
        ("administrations.json", 2, "name", "DDT\x00"),
        ("routing_rules.json", 0, "rank", True),
        ("consultation_types.json", 0, "binding", "yes"),
        ("communes_65.json", 0, "insee", "６５００１"),
        ("arrondissements.json", 0, "code", "65 1"),
    ],
)
def test_a_bad_catalogue_row_is_refused_by_file_row_and_field(
    db: Database, tmp_path: Path, name: str, index: int, field: str, value: Any
) -> None:
    directory = tmp_path / "seed"
    shutil.copytree(SEED_DIR, directory)
    rows = json.loads((directory / name).read_text(encoding="utf-8"))
    rows[index][field] = value
    (directory / name).write_text(json.dumps(rows), encoding="utf-8")
    with pytest.raises(InvalidInput, match=rf"{name}.*n° {index + 1}"), db.transaction() as session:
        load_catalogue(session, directory)


def test_a_cog_file_with_a_duplicate_or_no_commune_is_refused() -> None:
    header = "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT\n"
    row = "COM,65138,76,65,65D,651,0,CAUTERETS,Cauterets,Cauterets,6501,\n"
    with pytest.raises(InvalidInput, match="deux fois"):
        parse_cog(header + row + row)
    with pytest.raises(InvalidInput, match="aucune commune"):
        parse_cog(header)
    with pytest.raises(InvalidInput, match="ligne 2"):
        parse_cog(header + row.replace("65,65D", "64,65D"))
