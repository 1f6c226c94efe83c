"""The representation family's evaluation: the protocol (:mod:`.protocol`), its cached baselines
(:mod:`.baselines`) and the evaluation of a run folder (:mod:`.evaluation`).

May import: data, eval, models, training. Imported by
:mod:`mnistmax.families.representation`, the CLI and benchmarks; nothing here knows a method's
name.
"""
