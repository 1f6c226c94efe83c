"""`python -m mnistmax` is the same as the `mnistmax` console script."""

from mnistmax.cli.main import entry

entry()
