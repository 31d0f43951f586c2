"""Documents: the files attached to dossiers, their types, storage and completeness."""
