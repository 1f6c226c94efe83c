"""The shared training loop, schedules, checkpoints and run folders.

May import: data, eval, methods. Imported by the families, denoise, representation, viz, report, studies.
"""
