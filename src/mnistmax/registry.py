"""A tiny typed registry of factories: ``register(name)``, ``build(name, **kw)``, ``names()``."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from mnistmax.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories (never to instances) so every build is fresh."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that registers ``factory`` under ``name``."""

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return deco

    def build(self, name: str, **kwargs: Any) -> T:
        """Build a fresh object from the factory registered as ``name``."""
        return self.factory(name)(**kwargs)

    def factory(self, name: str) -> Callable[..., T]:
        """The factory registered as ``name`` (a class, for reading its attributes)."""
        try:
            return self._factories[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._factories)

    def in_order(self) -> list[str]:
        """Registered names in the order they were registered (modules import in a fixed
        order, so this is the order tables and listings show them in)."""
        return list(self._factories)

    @contextlib.contextmanager
    def temporarily(self, name: str, factory: Callable[..., T]) -> Iterator[Callable[..., T]]:
        """Register ``factory`` as ``name`` for the duration of a ``with`` block (tests,
        notebooks trying an idea); the registry is as before afterwards."""
        self.register(name)(factory)
        try:
            yield factory
        finally:
            del self._factories[name]

    def __contains__(self, name: object) -> bool:
        return name in self._factories
