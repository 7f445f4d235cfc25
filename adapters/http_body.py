"""The one hardened reader for every HTTP body the gateway accepts.

Python's json module turns hostile input into exceptions that are not ValueError (a
RecursionError at ~1,000 levels of nesting), into values that explode later (integers
of more than 4,300 digits fail when converted back to text; lone surrogates fail in
pydantic serialization and SQLite), or accepts what JSON does not allow (NaN). Every
route reads its body through here, so each of those is a ``BodyError`` with a 4xx status
and a reason the sender can act on, before any of it reaches the rest of the code.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from aiohttp import web

from adapters.http_errors import error_answer

#: Bodies larger than this are refused before parsing (the app's client_max_size is the outer bound).
MAX_BODY_BYTES = 1024 * 1024
#: No payload any platform sends nests deeper than this (Slack blocks reach about 10).
MAX_DEPTH = 64
#: Digits of one JSON integer; ids and timestamps that long come as strings.
MAX_INT_DIGITS = 100

_UTF8 = codecs.lookup("utf-8").name
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """A body the route refuses: ``status`` (4xx) and ``reason`` make the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> web.Response:
        return error_answer(self.reason, self.status)


async def read_bytes(request: web.Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, or 413 past ``max_bytes`` (checked against Content-Length first, then what arrived)."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyError(413, f"body is {request.content_length} bytes; the limit is {max_bytes}")
    try:
        raw = await request.read()  # cached by aiohttp: an SDK reading the body later gets the same bytes
    except web.HTTPRequestEntityTooLarge:
        raise BodyError(413, f"body is larger than {request.client_max_size} bytes") from None
    if len(raw) > max_bytes:
        raise BodyError(413, f"body is {len(raw)} bytes; the limit is {max_bytes}")
    return raw


def decode_text(raw: bytes, charset: str | None) -> str:
    """UTF-8 text; another declared charset is 415, undecodable bytes are 400."""
    codec = _UTF8
    if charset:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            raise BodyError(415, f"charset {charset[:40]!r} is unknown; send UTF-8") from None
        if codec not in (_UTF8, "ascii"):
            raise BodyError(415, f"charset {charset[:40]!r} is not supported; send UTF-8")
    try:
        # The declared codec, strictly, as aiohttp's request.text() (which SDKs call later) will decode.
        return raw.decode(codec)
    except UnicodeDecodeError as err:
        raise BodyError(400, f"body is not valid {codec.upper()} (byte {err.start})") from None


def check_text(text: str, what: str = "body") -> str:
    """Refuse lone surrogates (valid pairs are decoded by then): no encoder downstream accepts them."""
    if _SURROGATE.search(text):
        raise BodyError(400, f"{what} contains a lone UTF-16 surrogate")
    return text


def _check_depth(text: str, max_depth: int, what: str) -> None:
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > max_depth:
                raise BodyError(400, f"{what} nests deeper than {max_depth} levels")
        else:
            depth -= 1


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise BodyError(400, f"a JSON number has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _parse_float(text: str) -> float:
    if len(text) > MAX_INT_DIGITS * 2:
        raise BodyError(400, f"a JSON number has more than {MAX_INT_DIGITS * 2} characters")
    return float(text)


def _no_constant(name: str) -> Any:
    raise BodyError(400, f"{name} is not valid JSON")


def _check_strings(value: Any) -> None:
    """Every key and string value (recursion is bounded by the depth limit checked before)."""
    if isinstance(value, str):
        check_text(value, "a JSON string")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, "a JSON key")
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def parse_json(text: str, *, require_object: bool = True, max_depth: int = MAX_DEPTH, what: str = "body") -> Any:
    """JSON with the limits above; ``require_object`` refuses anything but an object at the top."""
    if not text.strip():
        raise BodyError(400, f"{what} is empty")
    _check_depth(text, max_depth, what)
    try:
        value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant)
    except BodyError:
        raise
    except (ValueError, RecursionError) as err:  # JSONDecodeError is a ValueError
        raise BodyError(400, f"{what} is not valid JSON ({str(err)[:120]})") from None
    _check_strings(value)
    if require_object and not isinstance(value, dict):
        raise BodyError(400, f"{what} must be a JSON object, not {_json_type(value)}")
    return value


async def read_text(request: web.Request, max_bytes: int = MAX_BODY_BYTES) -> str:
    """The body as UTF-8 text within the size limit (the UTF-8 decoder refuses encoded surrogates)."""
    return decode_text(await read_bytes(request, max_bytes), request.charset)


async def read_json(request: web.Request, *, max_bytes: int = MAX_BODY_BYTES, require_object: bool = True) -> Any:
    """The body as hardened JSON, whatever its content type (SNS posts JSON as text/plain)."""
    return parse_json(await read_text(request, max_bytes), require_object=require_object)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null" if value is None else type(value).__name__
