"""A real OpenID provider on loopback for the ProConnect tests: ``oidc-provider-mock`` (a Flask
app built on authlib's server side) in a thread, behind a WSGI layer the tests steer.

The mock runs with client registration and nonces required: the product's client is
registered through the provider's own dynamic registration endpoint and gets a real secret,
which the token endpoint checks. The layer in front of it (``Steering``):

- enforces PKCE S256, which the mock does not check: the authorisation request's
  ``code_challenge`` is remembered per ``state`` and the token request's ``code_verifier``
  must hash to it (else ``400 invalid_grant``, as a real provider answers);
- publishes a key of its own beside the provider's in the JWKS, so that a test can change an
  ID token's claims (another ``aud``, ``nonce``, ``iss``, an expired ``exp``, no e-mail) and
  sign it again with a key the product trusts; or sign it with a key nobody published, under
  a known key id (a bad signature);
- can answer the userinfo endpoint as a signed JWT, as ProConnect does, or with another
  subject.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
import werkzeug.serving
from joserfc import jwt
from joserfc.jwk import RSAKey

#: Key id of the steering layer's own published key.
OWN_KID = "tests-own-key"
#: A claim set to this is removed from the ID token.
REMOVE = object()


@dataclass
class Steering:
    """What the layer in front of the provider does to the next answers (reset per test)."""

    app: Any
    own_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": OWN_KID}, private=True)
    )
    stranger_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, {"kid": OWN_KID}, private=True)
    )
    #: Claims changed in the ID token (``REMOVE`` removes one); re-signed with ``own_key``.
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    #: Sign the ID token with a key nobody published (a bad signature).
    bad_signature: bool = False
    #: Answer userinfo as a signed JWT (ProConnect's way), with these claims changed.
    userinfo_jwt: bool = False
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    #: code_challenge by state, then by code; verifiers the token endpoint received.
    challenges: dict[str, str] = field(default_factory=dict)
    verified: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Pass everything through unchanged again."""
        self.id_token_claims = {}
        self.bad_signature = False
        self.userinfo_jwt = False
        self.userinfo_claims = {}
        self.verified = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize" and environ["REQUEST_METHOD"] == "GET":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            if query.get("code_challenge_method") == ["S256"] and "state" in query:
                self.challenges[query["state"][0]] = query["code_challenge"][0]
            return self.app(environ, start_response)
        if path == "/oauth2/authorize":
            status, headers, body = self._call(environ)
            location = dict(headers).get("Location", "")
            query = parse_qs(location.split("?", 1)[-1])
            if "code" in query and "state" in query:
                challenge = self.challenges.pop(query["state"][0], None)
                if challenge is not None:
                    self.challenges["code:" + query["code"][0]] = challenge
            return self._answer(start_response, status, headers, body)
        if path == "/oauth2/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length)
            form = parse_qs(raw.decode())
            code, verifier = form.get("code", [""])[0], form.get("code_verifier", [""])[0]
            challenge = self.challenges.pop("code:" + code, None)
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if challenge is None or digest.rstrip(b"=").decode() != challenge:
                body = json.dumps({"error": "invalid_grant"}).encode()
                return self._answer(
                    start_response, "400 BAD REQUEST", [("Content-Type", "application/json")], body
                )
            self.verified.append(verifier)
            environ["wsgi.input"] = _Body(raw)
            status, headers, body = self._call(environ)
            if status.startswith("200"):
                body = self._rewrite_tokens(body)
            return self._answer(start_response, status, headers, body)
        if path == "/jwks":
            status, headers, body = self._call(environ)
            keys = json.loads(body)
            keys["keys"].append(self.own_key.as_dict(private=False))
            return self._answer(start_response, status, headers, json.dumps(keys).encode())
        if path == "/userinfo" and (self.userinfo_jwt or self.userinfo_claims):
            status, headers, body = self._call(environ)
            claims = {**json.loads(body), **self.userinfo_claims}
            if not self.userinfo_jwt:
                return self._answer(start_response, status, headers, json.dumps(claims).encode())
            claims["iss"] = _issuer(environ)
            token = jwt.encode({"alg": "RS256", "kid": OWN_KID}, claims, self.own_key)
            headers = [("Content-Type", "application/jwt")]
            return self._answer(start_response, status, headers, token.encode())
        return self.app(environ, start_response)

    def _rewrite_tokens(self, body: bytes) -> bytes:
        if not self.id_token_claims and not self.bad_signature:
            return body
        tokens = json.loads(body)
        payload = tokens["id_token"].split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        for name, value in self.id_token_claims.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        key = self.stranger_key if self.bad_signature else self.own_key
        tokens["id_token"] = jwt.encode({"alg": "RS256", "kid": OWN_KID}, claims, key)
        return json.dumps(tokens).encode()

    def _call(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(self.app(environ, start))
        return captured["status"], captured["headers"], body

    @staticmethod
    def _answer(
        start_response: Any, status: str, headers: list[tuple[str, str]], body: bytes
    ) -> Iterable[bytes]:
        kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*kept, ("Content-Length", str(len(body)))])
        return [body]


class _Body:
    """A request body read once by the layer and handed on to the provider."""

    def __init__(self, raw: bytes) -> None:
        self._raw, self._at = raw, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._raw) if size is None or size < 0 else self._at + size
        chunk, self._at = self._raw[self._at : end], min(end, len(self._raw))
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _issuer(environ: dict[str, Any]) -> str:
    return f"http://{environ['HTTP_HOST']}"


@dataclass
class Provider:
    """The provider on loopback: its issuer URL and the layer the tests steer."""

    issuer: str
    steering: Steering

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A client registered for ``redirect_uri``: its id and secret."""
        answer = httpx.post(
            f"{self.issuer}/oauth2/clients",
            json={
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "client_secret_basic",
            },
        )
        assert answer.status_code == 201, answer.text
        client = answer.json()
        return client["client_id"], client["client_secret"]

    def set_user(self, subject: str, **claims: Any) -> None:
        """The claims the provider gives for ``subject``."""
        answer = httpx.put(f"{self.issuer}/users/{quote(subject, safe='')}", json=claims)
        assert answer.status_code == 204, answer.text


@contextmanager
def openid_provider() -> Iterator[Provider]:
    """The provider on a free loopback port, stopped after."""
    import oidc_provider_mock

    steering = Steering(
        oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    )
    server = werkzeug.serving.make_server("127.0.0.1", 0, steering, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        issuer = f"http://127.0.0.1:{server.server_port}"
        deadline = time.monotonic() + 10
        while httpx.get(f"{issuer}/.well-known/openid-configuration").status_code != 200:
            assert time.monotonic() < deadline, "the provider did not start"
            time.sleep(0.05)
        yield Provider(issuer, steering)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
