"""workflows/data_converter.py: the same payloads as temporalio's pydantic converter, built once."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import JSONPlainPayloadConverter

from workflows.contracts import Actor, ChatMessage, ConversationKey, FileRef
from workflows.data_converter import SharedPydanticPayloadConverter, data_converter


@dataclasses.dataclass
class Point:
    x: int
    y: int


VALUES = [
    None,
    b"\x00raw bytes",
    "text with ünïcode",
    {"nested": [1, 2.5, True, None], "when": "2026-11-30"},
    datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Point(1, 2),
    ChatMessage(
        key=ConversationKey(platform="slack", workspace="T1", channel="C1", thread="1.2"),
        actor=Actor(id="U1", name="Ada"),
        text="we have a critical incident",
        message_id="m-1",
        files=[FileRef(name="log.txt", url="https://files.example/log.txt", size=12)],
        ts=datetime(2026, 11, 30, 12, 0, tzinfo=UTC),
    ),
]


def test_payloads_are_byte_for_byte_those_of_the_pydantic_converter():
    ours = data_converter.payload_converter.to_payloads(VALUES)
    theirs = pydantic_data_converter.payload_converter.to_payloads(VALUES)
    assert [p.SerializeToString(deterministic=True) for p in ours] == [
        p.SerializeToString(deterministic=True) for p in theirs
    ]
    # And what the pydantic converter wrote reads back as the same values, typed.
    hints = [type(None), bytes, str, dict, datetime, uuid.UUID, Point, ChatMessage]
    assert data_converter.payload_converter.from_payloads(theirs, hints) == VALUES


def test_each_derived_converter_shares_the_json_converter_and_its_type_adapters():
    first, second = SharedPydanticPayloadConverter(), SharedPydanticPayloadConverter()
    json_first = first.converters[b"json/plain"]
    assert not isinstance(json_first, JSONPlainPayloadConverter)  # pydantic's, not temporalio's plain one
    assert json_first is second.converters[b"json/plain"]
    # What a derived data converter builds (one per payload context, four per activation)
    # reuses it too: a TypeAdapter built for one run is there for the next.
    derived = dataclasses.replace(data_converter)
    assert derived.payload_converter is not data_converter.payload_converter
    message = data_converter.payload_converter.to_payloads([VALUES[-1]])
    derived.payload_converter.from_payloads(message, [ChatMessage])
    hits = json_first._type_adapter.cache_info().hits
    first.from_payloads(message, [ChatMessage])
    assert json_first._type_adapter.cache_info().hits == hits + 1
