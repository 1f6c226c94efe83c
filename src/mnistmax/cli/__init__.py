"""Command-line interface: ``mnistmax <command> ...`` (see ``main``)."""
