"""Command-line interface: ``mnistmax <command> ...`` (see ``main``).

May import: anything; nothing imports it (it is the outermost layer).
"""
