"""The /slack/events body: its signature checked on the raw bytes before anything parses it.

bolt builds its request (and parses the body) before it checks the signature, so an
unsigned non-object JSON body or invalid UTF-8 used to reach a parser that threw. Here
the signature comes first (slack_sdk's SignatureVerifier), then the body is parsed the
way bolt will parse it, through the hardened reader: unsigned is 401, signed but
malformed is 400, and bolt only ever sees a body that parses into an object whose
fields bolt and the listeners read have the types they expect (payload_shape.py).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from adapters.http_body import decode_text, parse_json
from adapters.slack.payload_shape import check_shape

#: Slack's timestamps are Unix seconds; anything longer is not a timestamp.
MAX_TIMESTAMP_DIGITS = 12


def is_signed(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    """True when the headers sign ``raw`` with the app's secret within Slack's five minutes."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    # SignatureVerifier calls int() on the timestamp and compares str digests (non-ASCII raises).
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        return False
    if not (signature.isascii() and signature):
        return False
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        # SignatureVerifier only signs text; Slack signs bytes. The same HMAC, over the bytes.
        if abs(verifier.clock.now() - int(timestamp)) > 60 * 5:
            return False
        digest = hmac.new(verifier.signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256)
        return hmac.compare_digest(f"v0={digest.hexdigest()}", signature)
    return verifier.is_valid_request(body, {"x-slack-request-timestamp": timestamp, "x-slack-signature": signature})


def check_payload(raw: bytes, charset: str | None, content_type: str) -> None:
    """Parse the body as bolt will (slack_bolt.request.internals.parse_body) and refuse what would throw there."""
    text = decode_text(raw, charset)
    if not text:
        return
    if content_type == "application/json" or text.startswith("{"):
        check_shape(parse_json(text))
    elif "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            check_shape(parse_json(payload, what="payload"))
