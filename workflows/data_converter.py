"""The data converter of threadwork's clients and workers: temporalio's pydantic JSON, built once.

temporalio builds a fresh payload converter every time it derives a data converter, and a
worker derives four for each workflow activation (the serialization contexts of its payloads).
``temporalio.contrib.pydantic``'s converter builds a schema serializer and an empty TypeAdapter
cache each time (about 7% of a replay in py-spy), and every new run started without the adapters
it had just built. This converter shares one pydantic JSON converter, and so its TypeAdapter
cache, across all of them: a replay costs about 3% less (docs/performance.md, step 14). The payloads are byte for byte
the ones ``pydantic_data_converter`` writes (tests/workflows/test_data_converter.py), so the
histories already recorded replay unchanged.
"""

from __future__ import annotations

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

#: One for the process. Its TypeAdapter cache is functools.lru_cache, safe to share between the
#: threads that run activations; the serializer is immutable.
_JSON = PydanticJSONPlainPayloadConverter()

_CONVERTERS = tuple(
    _JSON if isinstance(c, JSONPlainPayloadConverter) else c
    for c in DefaultPayloadConverter.default_encoding_payload_converters
)


class SharedPydanticPayloadConverter(PydanticPayloadConverter):
    """PydanticPayloadConverter whose construction reuses the process's converters."""

    def __init__(self) -> None:
        CompositePayloadConverter.__init__(self, *_CONVERTERS)


data_converter = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
