"""Typed exceptions. Library code raises these; the CLI turns them into one-line messages."""


class MnistmaxError(Exception):
    """Base class: the message is one clear sentence a user can act on."""


class DataError(MnistmaxError):
    """A dataset file or source is missing, malformed or fails verification."""


class ChecksumError(DataError):
    """Decoded data does not match the canonical checksum."""


class ConfigError(MnistmaxError):
    """A configuration value, preset or override is invalid."""


class RunError(MnistmaxError):
    """A run folder is missing, incomplete or inconsistent."""
