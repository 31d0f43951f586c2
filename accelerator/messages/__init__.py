"""Messages: the single window, one thread per dossier and one per consultation."""
