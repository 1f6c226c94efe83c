"""Encoders, heads and denoisers, each registered by name."""

from mnistmax.models.encoders import ENCODERS, build_encoder
from mnistmax.models.heads import HEADS, build_head

__all__ = ["ENCODERS", "HEADS", "build_encoder", "build_head"]
