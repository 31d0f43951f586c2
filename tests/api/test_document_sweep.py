"""``accelerator documents sweep``: stored files no document names are deleted, once old."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from accelerator.shared.config import Settings
from api.app import create_app
from tests import samples
from tests.api.conftest import HOTEL, Api
from tests.api.test_documents import upload
from tests.cli.test_cli import accelerator


def test_sweep_deletes_only_old_files_without_a_document(
    db: Any, accounts: dict[str, str], database_url: str, tmp_path: Path
) -> None:
    # A store of its own: the other tests' files (their rows emptied) would be orphans too.
    settings = Settings(database_url=db.url, demo=True, storage_dir=tmp_path / "store")
    with TestClient(create_app(settings)) as client:
        _sweep(client, database_url, tmp_path / "store")


def _sweep(client: TestClient, database_url: str, directory: Path) -> None:
    holder = Api(client, "holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    upload(holder, dossier["id"], "plan.pdf", samples.PDF)
    store = client.app.state.document_store
    [kept] = store.list_keys(f"dossiers/{dossier['id']}")
    # What a process killed between storing a file and committing its row leaves behind.
    orphan = f"dossiers/{dossier['id']}/{uuid.uuid4().hex}"
    staged = Path(tempfile.mkstemp()[1])
    staged.write_bytes(samples.PDF)
    store.put(orphan, staged)
    staged.unlink()
    env = {"ACCELERATOR_STORAGE_DIR": str(directory)}
    young = accelerator("documents", "sweep", database_url=database_url, **env)
    assert young.returncode == 0, young.stderr
    assert "supprimés : 0" in young.stdout
    assert sorted(store.list_keys(f"dossiers/{dossier['id']}")) == sorted([kept, orphan])
    done = accelerator(
        "documents", "sweep", "--older-than-minutes", "0", database_url=database_url, **env
    )
    assert done.returncode == 0, done.stderr
    assert "supprimés : 1" in done.stdout
    assert store.list_keys(f"dossiers/{dossier['id']}") == [kept]
