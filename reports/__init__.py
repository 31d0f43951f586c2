"""Documents laid out from the domain's view models for people to read away from the pages:
the managers' weekly review pack as HTML and PDF (``weekly.py``)."""
