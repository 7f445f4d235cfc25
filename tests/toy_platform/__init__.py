"""A toy chat platform registered from tests/ only: what a plugin author writes for a new platform.

``THREADWORK_ADAPTERS=tests.toy_platform:ToyAdapter`` (plus ``TOY_ENABLED=1``) adds it; no file
outside this folder knows it exists (docs/architecture.md, "Adding a platform").
"""

from tests.toy_platform.adapter import ToyAdapter, ToySettings
from tests.toy_platform.platform import ToyPlatform

__all__ = ["ToyAdapter", "ToyPlatform", "ToySettings"]
