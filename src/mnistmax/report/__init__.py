"""The side-by-side report: every run's numbers, figures and provenance in one page.

``build_report(paths, out)`` reads run folders (and folders holding run folders, such as
studies and reviews), writes ``index.html`` (self-contained: figures as data URIs, the
embedding explorer's JavaScript inline, nothing fetched from a network) and ``report.md``
(the same table, figures copied beside it).

May import: data, eval, families, methods, recipes, training, viz. Imported by review and the CLI.
"""

from mnistmax.report.build import ReportResult, build_report

__all__ = ["ReportResult", "build_report"]
