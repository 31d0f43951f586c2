"""The ``accelerator`` command: the composition root that wires domain, API and flows."""
