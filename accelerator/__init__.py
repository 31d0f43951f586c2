"""Accélérateur: the domain of a préfecture's single-window accelerator for investment projects."""
