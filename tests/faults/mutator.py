"""A seeded mutator of HTTP bodies: from one valid body, the malformed ones a hostile sender would try.

Each case is ``(kind, body bytes, content type or None)``; ``kind`` names the mutation so a
failure says what was sent, and the seed makes the same sequence come back.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

FIVE_MB = 5 * 1024 * 1024
DEEP = 1_000
HUGE_DIGITS = 5_000


@dataclass
class Case:
    kind: str
    body: bytes
    content_type: str | None

    def __repr__(self) -> str:  # a failing assertion shows what was sent, not 5 MB of it
        return f"Case({self.kind!r}, {self.body[:120]!r}{'...' if len(self.body) > 120 else ''}, {self.content_type!r})"


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into the JSON tree (keys and list indexes), the root included."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _replace(tree: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    tree = copy.deepcopy(tree)
    node = tree
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = new
    return tree


def _remove(tree: Any, path: tuple) -> Any:
    if not path:
        return tree
    tree = copy.deepcopy(tree)
    node = tree
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return tree


class Mutator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    # ---- values of the wrong kind ---------------------------------------------------
    def hostile_value(self) -> tuple[str, Any]:
        """A value for any field: wrong types, edge values; the raw-text ones are spliced in later."""
        r = self.rng
        choices: list[tuple[str, Callable[[], Any]]] = [
            ("null", lambda: None),
            ("true", lambda: True),
            ("zero", lambda: 0),
            ("negative", lambda: -r.randint(1, 10**9)),
            ("float", lambda: r.random() * 1e308),
            ("big-int-64", lambda: 2**63 + r.randint(0, 1000)),
            ("empty-string", lambda: ""),
            ("spaces", lambda: "   "),
            ("long-string", lambda: "x" * r.choice([81, 129, 40_001, 100_000])),
            ("unicode", lambda: "ü€😀\u200b\u202e\x00"),
            ("list", lambda: [1, "a", None]),
            ("empty-list", list),
            ("object", lambda: {"a": 1}),
            ("empty-object", dict),
            ("string-number", lambda: "12345678901234567890"),
            ("path-like", lambda: "../../etc/passwd"),
            ("html", lambda: "<script>alert(1)</script>"),
        ]
        kind, make = r.choice(choices)
        return kind, make()

    def cases(
        self, base: Any, content_type: str, count: int, encode: Callable[[Any], bytes] | None = None
    ) -> Iterator[Case]:
        """``count`` malformed variants of ``base`` (a JSON-able value) sent as ``content_type``."""
        enc = encode or (lambda v: json.dumps(v).encode())
        strategies = [
            (6, self._field_type),
            (2, self._remove_field),
            (1, self._extra_field),
            (2, self._top_level),
            (1, self._empty),
            (2, self._deep),
            (2, self._huge_int),
            (2, self._invalid_utf8),
            (2, self._lone_surrogate),
            (2, self._content_type),
            (1, self._five_mb),
            (2, self._broken_json),
            (1, self._nonstandard_json),
        ]
        weights = [w for w, _ in strategies]
        for _ in range(count):
            [(_, strategy)] = self.rng.choices(strategies, weights=weights)
            yield strategy(base, content_type, enc)

    # ---- strategies -------------------------------------------------------------------
    def _field_type(self, base: Any, ct: str, enc) -> Case:
        path = self.rng.choice(_paths(base))
        kind, value = self.hostile_value()
        return Case(f"field {'.'.join(map(str, path)) or '(root)'} = {kind}", enc(_replace(base, path, value)), ct)

    def _remove_field(self, base: Any, ct: str, enc) -> Case:
        path = self.rng.choice(_paths(base)[1:] or [()])
        return Case(f"remove {'.'.join(map(str, path))}", enc(_remove(base, path)), ct)

    def _extra_field(self, base: Any, ct: str, enc) -> Case:
        paths = [p for p in _paths(base) if isinstance(_get(base, p), dict)]
        path = self.rng.choice(paths or [()])
        target = _get(base, path)
        if not isinstance(target, dict):
            return self._empty(base, ct, enc)
        kind, value = self.hostile_value()
        return Case(
            f"extra field under {'.'.join(map(str, path))} = {kind}",
            enc(_replace(base, path, {**target, "zz_unknown": value})),
            ct,
        )

    def _top_level(self, base: Any, ct: str, enc) -> Case:
        value = self.rng.choice([[], [base], "text", 42, None, True, 1.5])
        return Case(f"top level {type(value).__name__}", json.dumps(value).encode(), ct)

    def _empty(self, base: Any, ct: str, enc) -> Case:
        return Case("empty", self.rng.choice([b"", b" ", b"\n\n"]), ct)

    def _splice(self, base: Any, ct: str, enc, kind: str, raw: bytes) -> Case:
        """Put raw JSON text (not expressible as a Python value) at a random field."""
        marker = "__SPLICE_9f3e__"
        path = self.rng.choice(_paths(base))
        body = enc(_replace(base, path, marker))
        quoted = json.dumps(marker).encode()
        if quoted in body:
            return Case(f"{kind} at {'.'.join(map(str, path)) or '(root)'}", body.replace(quoted, raw, 1), ct)
        return Case(f"{kind} (whole body)", raw, ct)

    def _deep(self, base: Any, ct: str, enc) -> Case:
        depth = self.rng.choice([65, DEEP, 100_000])
        raw = (b"[" * depth + b"]" * depth) if self.rng.random() < 0.5 else (b'{"a":' * depth + b"1" + b"}" * depth)
        return self._splice(base, ct, enc, f"nesting {depth} deep", raw)

    def _huge_int(self, base: Any, ct: str, enc) -> Case:
        digits = self.rng.choice([101, 4_301, HUGE_DIGITS, 50_000])
        raw = (b"-" if self.rng.random() < 0.3 else b"") + b"9" * digits
        if self.rng.random() < 0.2:
            raw = b"1e" + b"9" * digits
        return self._splice(base, ct, enc, f"number of {digits} digits", raw)

    def _invalid_utf8(self, base: Any, ct: str, enc) -> Case:
        bad = self.rng.choice([b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80abc", b"\xc0\xaf"])
        return self._splice(base, ct, enc, f"invalid UTF-8 {bad!r}", b'"' + bad + b'"')

    def _lone_surrogate(self, base: Any, ct: str, enc) -> Case:
        escape = self.rng.choice([b'"\\ud800"', b'"abc\\udfff"', b'"\\udc00\\ud800"', b'"\\ud83d"'])
        if self.rng.random() < 0.3:  # as an object key
            return self._splice(base, ct, enc, "lone surrogate key", b"{" + escape + b": 1}")
        return self._splice(base, ct, enc, f"lone surrogate {escape.decode()}", escape)

    def _content_type(self, base: Any, ct: str, enc) -> Case:
        body = enc(base)
        choice = self.rng.choice(
            [
                None,
                "text/plain",
                "application/xml",
                "multipart/form-data",
                "application/x-www-form-urlencoded",
                f"{ct}; charset=klingon",
                f"{ct}; charset=utf-16",
                f"{ct}; charset=latin-1",
                f"{ct}; charset=",
                "application/json; boundary=x",
                "*/*",
                "application/json\u00e9",
            ]
        )
        if choice and "utf-16" in choice:
            body = body.decode().encode("utf-16")
        return Case(f"content type {choice!r}", body, choice)

    def _five_mb(self, base: Any, ct: str, enc) -> Case:
        path = self.rng.choice(_paths(base))
        return Case(
            f"5 MB string at {'.'.join(map(str, path)) or '(root)'}", enc(_replace(base, path, "A" * FIVE_MB)), ct
        )

    def _broken_json(self, base: Any, ct: str, enc) -> Case:
        body = enc(base)
        r = self.rng
        how = r.choice(["truncate", "flip", "garbage", "bom", "trailing"])
        if how == "truncate":
            body = body[: r.randint(0, max(0, len(body) - 1))]
        elif how == "flip":
            data = bytearray(body)
            for _ in range(r.randint(1, 4)):
                if data:
                    data[r.randrange(len(data))] = r.randrange(256)
            body = bytes(data)
        elif how == "garbage":
            body = bytes(r.randrange(256) for _ in range(r.randint(1, 200)))
        elif how == "bom":
            body = b"\xef\xbb\xbf" + body
        else:
            body = body + b" }]"
        return Case(f"broken: {how}", body, ct)

    def _nonstandard_json(self, base: Any, ct: str, enc) -> Case:
        raw = self.rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e400", b"0.0000000000000000000001e-400"])
        return self._splice(base, ct, enc, f"non-standard number {raw.decode()}", raw)


def _get(tree: Any, path: tuple) -> Any:
    for step in path:
        tree = tree[step]
    return tree
