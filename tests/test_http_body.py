"""The hardened body reader: every hostile body is a BodyError with a 4xx and a reason."""

from __future__ import annotations

import pytest

from adapters.http_body import MAX_DEPTH, BodyError, decode_text, parse_json


@pytest.mark.parametrize(
    ("text", "status", "reason"),
    [
        ("", 400, "body is empty"),
        ("  \n", 400, "body is empty"),
        ("[" * 1000 + "]" * 1000, 400, f"deeper than {MAX_DEPTH} levels"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, 400, "deeper than"),
        ('{"n": ' + "9" * 5000 + "}", 400, "more than 100 digits"),
        ('{"n": -' + "9" * 101 + "}", 400, "more than 100 digits"),
        ('{"n": 1e' + "9" * 300 + "}", 400, "characters"),
        ('{"n": NaN}', 400, "NaN is not valid JSON"),
        ('{"n": -Infinity}', 400, "-Infinity is not valid JSON"),
        ('{"t": "\\ud800"}', 400, "lone UTF-16 surrogate"),
        ('{"\\udfff": 1}', 400, "a JSON key contains a lone UTF-16 surrogate"),
        ("[1, 2]", 400, "must be a JSON object, not an array"),
        ('"text"', 400, "must be a JSON object, not a string"),
        ("null", 400, "must be a JSON object, not null"),
        ("{not json", 400, "body is not valid JSON"),
        ('{"a": 1} }', 400, "body is not valid JSON"),
    ],
)
def test_hostile_json_is_refused_with_a_reason(text, status, reason):
    with pytest.raises(BodyError) as refused:
        parse_json(text)
    assert refused.value.status == status
    assert reason in refused.value.reason


def test_what_is_valid_passes_unchanged():
    text = (
        '{"t": "caf\\u00e9 \\ud83d\\ude00", "deep": '
        + "[" * (MAX_DEPTH - 1)
        + "]" * (MAX_DEPTH - 1)
        + ', "n": '
        + "9" * 100
        + ', "s": "[[[[{{{{"}'
    )
    value = parse_json(text)
    assert value["t"] == "café 😀" and value["n"] == int("9" * 100) and value["s"] == "[[[[{{{{"
    assert parse_json("[1]", require_object=False) == [1]


@pytest.mark.parametrize(
    ("raw", "charset", "status", "reason"),
    [
        (b"{}", "klingon", 415, "charset 'klingon' is unknown"),
        (b"{}", "utf-16", 415, "'utf-16' is not supported"),
        (b'{"a": "\xff"}', None, 400, "not valid UTF-8 (byte 7)"),
        (b'{"a": "\xed\xa0\x80"}', "utf-8", 400, "not valid UTF-8"),
        (b'{"a": "\xc3\xa9"}', "us-ascii", 400, "not valid ASCII"),
    ],
)
def test_charsets_and_bytes(raw, charset, status, reason):
    with pytest.raises(BodyError) as refused:
        decode_text(raw, charset)
    assert (refused.value.status, reason in refused.value.reason) == (status, True), refused.value.reason


def test_declared_utf8_and_ascii_decode():
    assert decode_text('{"a": "é"}'.encode(), "UTF-8") == '{"a": "é"}'
    assert decode_text(b"{}", "us-ascii") == "{}"
