"""Encoders and denoisers, each registered by name. (Projection heads are built by the
self-supervised methods from their ``ssl.projector`` spec: ``mnistmax.methods.ssl.build_mlp``.)

May import: nothing but the foundation. Imported by methods and representation.
"""

from mnistmax.models.encoders import ENCODERS, build_encoder

__all__ = ["ENCODERS", "build_encoder"]
