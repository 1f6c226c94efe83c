"""Figures: plot functions take arrays and return a ``matplotlib.figure.Figure`` (the object
API: no pyplot, no backend switch, never ``show()``); they show inline in a notebook and save
anywhere with ``save_figure``.

May import: data, eval, families, training. Imported by the families, denoise, report, studies and
the CLI.
"""
