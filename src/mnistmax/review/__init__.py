"""``mnistmax review``: run every method at a budget, reuse finished runs, build the report.

A budget is a list of (preset, overrides, seeds), gathered from the presets that name it
(``preset(review=...)``). Each run goes to ``OUT/runs/<name>_s<seed>``;
a folder that already holds ``eval.json`` is reused as it is, an interrupted one is resumed
(each family's ``train`` continues from the last checkpoint), so running the review
again after a crash or with a bigger budget only trains what is missing. The report is then
built from ``OUT/runs`` into ``OUT/report``.

Budgets (wall time on the 2-core reference CPU; see docs/review.md for measurements):

* ``quick`` (≤ 5 min): every method on the embedded ``mnist-mini`` through its ``*_quick``
  preset, few-shot limited to the table's 10 shots. Smoke-test numbers, not a comparison.
* ``standard`` (32.5 min measured on the 2-core CPU; target ≤ 1 h): full MNIST.
  ``triplet_fast`` with few-shot and k-means on, the six ``*_standard`` self-supervised presets
  (4 epochs, 410k views each: 200–349 s wall measured) and ``dae_best`` cut from 6 to 3
  epochs. Under load the machine is 3–5× slower and it does not fit.
* ``full`` (hours): ``triplet_full``, ``triplet_fast``, the six ``*_standard`` presets at twice
  the epochs with fine-tuning transfer, ``dae_best`` and ``dae_ablation``, three seeds each
  (mean ± std in the table).

``--dataset NAME`` runs a budget's presets on another catalogue dataset (only ``data.dataset``
changes; the quick presets also keep mnist-mini's 150 labelled images per class) into
``OUT/runs/NAME/``; see :func:`~mnistmax.review.budgets.dataset_overrides`.

May import: data (the catalogue, for --dataset), families, recipes, report. Imported by the CLI.
"""

from mnistmax.review.budgets import BUDGETS, EXPLORER_PER_CLASS, PlannedRun, ReviewItem, plan
from mnistmax.review.run import ReviewResult, run_review

__all__ = [
    "BUDGETS",
    "EXPLORER_PER_CLASS",
    "PlannedRun",
    "ReviewItem",
    "ReviewResult",
    "plan",
    "run_review",
]
