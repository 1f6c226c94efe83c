"""Ablation and hyper-parameter studies on Optuna.

* :mod:`~mnistmax.studies.spec` — :class:`StudySpec`, TOML loading and validation, presets;
* :mod:`~mnistmax.studies.storage` — study folders, SQLite/PostgreSQL storage, the claim lock;
* :mod:`~mnistmax.studies.engine` — setting a study up and the worker loop;
* :mod:`~mnistmax.studies.report` — per-cell tables, the best configuration, figures.

``docs/studies.md`` describes the spec format and the commands.

May import: families, methods, recipes, training, viz. Imported by the CLI.
"""

from mnistmax.studies.spec import STUDY_PRESETS, Objective, Param, StudySpec, load_spec

__all__ = ["STUDY_PRESETS", "Objective", "Param", "StudySpec", "load_spec"]
