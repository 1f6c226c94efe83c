"""Figures: plot functions take arrays and return a Figure (Agg backend, never ``show()``).

May import: data, eval, families, train. Imported by the families, denoise, report, studies and the CLI.
"""

import matplotlib

matplotlib.use("Agg")
