"""Figures: plot functions take arrays and return a Figure (Agg backend, never ``show()``)."""

import matplotlib

matplotlib.use("Agg")
