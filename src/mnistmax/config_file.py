"""A resolved :class:`~mnistmax.config.RunConfig` as a TOML file, and back.

``mnistmax train ... --print-config`` writes one; ``--config FILE`` runs from it. Reading goes
through the same typed coercion as ``--set`` (:func:`mnistmax.config.apply_overrides`), so a
file and a command line accept the same values and fail with the same sentences. TOML has no
null: ``None`` is written as the string ``"none"``, which ``--set`` reads as ``None`` too.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from mnistmax.config import RunConfig, apply_overrides, override_text
from mnistmax.errors import ConfigError


def _toml_value(value: Any) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return "nan" if math.isnan(value) else repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def to_toml(cfg: RunConfig) -> str:
    """The config as TOML: ``method`` and ``preset``, then one table per section."""
    data = dataclasses.asdict(cfg)
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for section, fields in data.items():
        if isinstance(fields, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def from_toml(text: str, *, where: str = "config") -> RunConfig:
    """The config of a TOML text (missing fields keep their defaults).

    Raises:
        ConfigError: Not TOML, an unknown section or field, or a value of the wrong type.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML ({exc})") from None
    overrides = []
    for key, value in data.items():
        if isinstance(value, dict):
            overrides += [f"{key}.{k}={override_text(v)}" for k, v in value.items()]
        else:
            overrides.append(f"{key}={override_text(value)}")
    try:
        return apply_overrides(RunConfig(), overrides)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def read_config(path: str | Path) -> RunConfig:
    """The config in TOML file ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file} ({exc.strerror})") from None
    return from_toml(text, where=str(file))
