"""Malformed multipart/form-data bodies for the web chat upload route."""

from __future__ import annotations

import json
from collections.abc import Iterator

from tests.faults.mutator import FIVE_MB, Case, Mutator

BOUNDARY = "fuzzBoundary7MA4YWxkTrZu0gW"


def part(name: str | None, data: bytes, *, filename: str | None = None, headers: bytes = b"") -> bytes:
    disposition = b"Content-Disposition: form-data"
    if name is not None:
        disposition += b'; name="' + name.encode() + b'"'
    if filename is not None:
        disposition += b'; filename="' + filename.encode("utf-8", "surrogatepass") + b'"'
    return b"--" + BOUNDARY.encode() + b"\r\n" + disposition + b"\r\n" + headers + b"\r\n" + data + b"\r\n"


def form(*parts: bytes, end: bool = True) -> bytes:
    return b"".join(parts) + (b"--" + BOUNDARY.encode() + b"--\r\n" if end else b"")


def valid_parts(user: bytes = b"fuzzer", text: bytes = b"a file", file: bytes = b"hello\n") -> list[bytes]:
    return [
        part("channel", b"general"),
        part("user", user),
        part("text", text),
        part("file", file, filename="notes.txt", headers=b"Content-Type: text/plain\r\n"),
    ]


def multipart_cases(mutator: Mutator, count: int) -> Iterator[Case]:
    r = mutator.rng
    ct = f"multipart/form-data; boundary={BOUNDARY}"
    makers = [
        lambda: Case("valid", form(*valid_parts()), ct),
        lambda: Case("no boundary parameter", form(*valid_parts()), "multipart/form-data"),
        lambda: Case("boundary too long", form(*valid_parts()), "multipart/form-data; boundary=" + "b" * 200),
        lambda: Case("wrong boundary", form(*valid_parts()), "multipart/form-data; boundary=other"),
        lambda: Case("no closing boundary", form(*valid_parts(), end=False), ct),
        lambda: Case("truncated", form(*valid_parts())[: r.randint(1, 200)], ct),
        lambda: Case("garbage", bytes(r.randrange(256) for _ in range(r.randint(1, 500))), ct),
        lambda: Case("empty", b"", ct),
        lambda: Case(
            "part without headers end",
            b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="user"' * 50,
            ct,
        ),
        lambda: Case("invalid UTF-8 field", form(*valid_parts(user=b"\xff\xfe\xed\xa0\x80")), ct),
        lambda: Case(
            "lone surrogate in filename",
            form(part("channel", b"general"), part("user", b"u"), part("file", b"x", filename="a\ud800.txt")),
            ct,
        ),
        lambda: Case(
            "invalid UTF-8 filename",
            form(
                part("channel", b"general"),
                part("user", b"u"),
                part("file", b"x", headers=b"").replace(b'name="file"', b'name="file"; filename="\xff\xfe.txt"'),
            ),
            ct,
        ),
        lambda: Case(
            "5 MB field",
            form(
                part("channel", b"general"),
                part("user", b"u"),
                part("text", b"A" * FIVE_MB),
                part("file", b"x", filename="a.txt"),
            ),
            ct,
        ),
        lambda: Case(
            "unknown transfer encoding",
            form(
                part("channel", b"general"),
                part("user", b"u"),
                part("file", b"x", filename="a.txt", headers=b"Content-Transfer-Encoding: rot13\r\n"),
            ),
            ct,
        ),
        lambda: Case(
            "unknown content encoding",
            form(
                part("channel", b"general"),
                part("user", b"u"),
                part("file", b"x", filename="a.txt", headers=b"Content-Encoding: brotli-x\r\n"),
            ),
            ct,
        ),
        lambda: Case(
            "unknown charset in part",
            form(
                part("channel", b"general"),
                part("user", b"u", headers=b"Content-Type: text/plain; charset=klingon\r\n"),
                part("file", b"x", filename="a.txt"),
            ),
            ct,
        ),
        lambda: Case(
            "nested multipart",
            form(
                part("channel", b"general"),
                part(
                    "file",
                    b"--inner--\r\n",
                    filename="a.txt",
                    headers=b"Content-Type: multipart/mixed; boundary=inner\r\n",
                ),
            ),
            ct,
        ),
        lambda: Case("part without name", form(part(None, b"x")), ct),
        lambda: Case("two files", form(*valid_parts(), part("file", b"y", filename="b.txt")), ct),
        lambda: Case("unknown field", form(*valid_parts(), part("guest", b"true"), part("colour", b"red")), ct),
        lambda: Case("no file", form(part("channel", b"general"), part("user", b"u")), ct),
        lambda: Case(
            "file name only dots",
            form(part("channel", b"general"), part("user", b"u"), part("file", b"x", filename="...")),
            ct,
        ),
        lambda: Case("channel missing", form(part("user", b"u"), part("file", b"x", filename="a.txt")), ct),
        lambda: Case(
            "bad header line", form(part("channel", b"general", headers=b"Nonsense header without colon\r\n")), ct
        ),
        lambda: Case(
            "huge header", form(part("channel", b"general", headers=b"X-Big: " + b"h" * 100_000 + b"\r\n")), ct
        ),
        lambda: Case("JSON instead", json.dumps({"channel": "general", "user": "u"}).encode(), "application/json"),
        lambda: Case("unknown charset", form(*valid_parts()), ct + "; charset=klingon"),
    ]
    for _ in range(count):
        case = r.choice(makers)()
        if r.random() < 0.2 and case.body:  # and some byte flips on top
            data = bytearray(case.body)
            for _ in range(r.randint(1, 3)):
                data[r.randrange(len(data))] = r.randrange(256)
            case = Case(case.kind + " + byte flips", bytes(data), case.content_type)
        yield case
