"""Evaluation of frozen representations: functions of tensors ``(Z, y)``, never of a model.

Everything runs batched in torch on the features' device (CPU or CUDA) and returns Python floats;
see DESIGN.md §5 for the protocol. Only :mod:`mnistmax.eval.embed` touches a model.

- :func:`knn_accuracy`, :func:`knn_predict`: weighted kNN (cosine, ``exp(s / tau)`` votes).
- ``linear_probe.linear_probe``: logistic regression, penalty chosen on the validation split.
  Import it from its module (``from mnistmax.eval.linear_probe import linear_probe``): the
  package does not re-export it, so that ``mnistmax.eval.linear_probe`` stays the module.
- :func:`fewshot_eval`: ``n`` labels per class, mean and std over draws.
- :func:`cluster_metrics`, :func:`hungarian_accuracy`: k-means / GMM, ACC, NMI, ARI.
- :func:`precision_at_1`, :func:`map_at_r`, :func:`triplet_accuracy`: retrieval metrics.

May import: augment, data. Imported by the families, the loop, losses and the report.
"""

from mnistmax.eval.clustering import cluster_metrics, hungarian_accuracy
from mnistmax.eval.fewshot import fewshot_eval, fewshot_splits
from mnistmax.eval.knn import knn_accuracy, knn_predict
from mnistmax.eval.linear_probe import ProbeResult
from mnistmax.eval.retrieval import map_at_r, precision_at_1, retrieval_metrics, triplet_accuracy

__all__ = [
    "ProbeResult",
    "cluster_metrics",
    "fewshot_eval",
    "fewshot_splits",
    "hungarian_accuracy",
    "knn_accuracy",
    "knn_predict",
    "map_at_r",
    "precision_at_1",
    "retrieval_metrics",
    "triplet_accuracy",
]
