"""Ablation and hyper-parameter studies on Optuna.

* :mod:`~mnistmax.studies.spec` — :class:`StudySpec`, TOML loading and validation, presets;
* :mod:`~mnistmax.studies.storage` — study folders, SQLite/PostgreSQL storage, the claim lock;
* :mod:`~mnistmax.studies.engine` — setting a study up and the worker loop;
* :mod:`~mnistmax.studies.report` — per-cell tables, the best configuration, figures.

``docs/studies.md`` describes the spec format and the commands.

May import: families, methods, recipes, training, viz. Imported by the CLI.

Optuna (and SQLAlchemy with it) comes with the 'studies' extra: importing this package checks
for it once, so the modules below import it where they use it. PostgreSQL's driver is checked
where a storage URL is opened (:func:`mnistmax.studies.storage.driver_url`).
"""

from mnistmax.extras import require

require("optuna", "studies", "studies")

from mnistmax.studies.spec import STUDY_PRESETS, Objective, Param, StudySpec, load_spec  # noqa: E402

__all__ = ["STUDY_PRESETS", "Objective", "Param", "StudySpec", "load_spec"]
