"""Bot Framework tokens signed by a key generated in the test, and an OpenID metadata
server for it on its own thread (the SDK fetches metadata with blocking requests.get)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk(key: rsa.RSAPrivateKey, kid: str, endorsements: list[str] | None = None) -> dict[str, Any]:
    data = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    data.update(kid=kid, use="sig", alg="RS256")
    if endorsements is not None:
        data["endorsements"] = endorsements
    return data


def token(
    key: rsa.RSAPrivateKey, kid: str, *, audience: str, service_url: str, expires_in: int = 300, **claims: Any
) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": audience,
        "serviceurl": service_url,
        "nbf": now - 10,
        "exp": now + expires_in,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


class OpenIdServer:
    """Serves /openid (the metadata document) and /keys (the JWKS) on 127.0.0.1."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/openid":
                    body = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{outer.url}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = {"keys": outer.keys}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OpenIdServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
