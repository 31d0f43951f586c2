"""Prefect flows of the accelerator: thin, taking ids, one domain action per task."""
