"""ProConnect, the State's OpenID Connect federation, as the pages' second way to sign in.

The relying party's side of the authorisation code flow, built on authlib's protocol pieces
(``authlib.oauth2.client.OAuth2Client`` for the authorisation request with PKCE S256,
``authlib.oauth2.auth.ClientAuth`` for the client's authentication at the token endpoint,
``authlib.oidc.core.CodeIDToken`` for the ID token's claims) and on ``joserfc`` (authlib's
JOSE library, which ``authlib.jose`` is deprecated for) for the signatures; the HTTP is httpx.

What is checked, in order (``ProConnect.finish``): the token endpoint's answer; the ID token's
signature with a key of the provider's JWKS (fetched again once for an unknown key id: key
rotation), with an algorithm of ``ALGORITHMS`` only; ``iss`` is the configured issuer (the
discovery document must say the same), ``aud`` holds the client id (``azp`` too when there
are several audiences), ``exp``/``iat`` within ``LEEWAY_SECONDS``, ``nonce`` is the one this
browser's flow sent, ``at_hash`` matches the access token when present, ``acr`` is one of
the configured ``acr_values``. The e-mail comes from the ID token, or else from the userinfo
endpoint (JSON, or a signed JWT as ProConnect answers, verified like the ID token), whose
``sub`` must be the ID token's. ``email_verified: false`` is refused; ProConnect sends no such
claim (its identity providers vouch for the address), so its absence is accepted.

Nothing here logs or returns a token or the client secret: a failure carries a catalogue key
for the user and a short reason for the log.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import OAuth2Client
from authlib.oauth2.rfc6749.parameters import prepare_token_request
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact

from accelerator.shared.config import Settings

CALLBACK_PATH = "/login/proconnect/callback"
LOGOUT_CALLBACK_PATH = "/logout/proconnect/callback"
#: Signature algorithms an ID token may use (ProConnect signs with RS256 or ES256).
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
#: Clock skew tolerated between this server and the provider.
LEEWAY_SECONDS = 60
#: How long the discovery document and the keys are kept before being read again.
METADATA_SECONDS = 3600
#: Length of the random state, nonce and PKCE verifier (characters of 62 symbols).
RANDOM_LENGTH = 48


class ProConnectFailure(Exception):
    """A sign-in through ProConnect that cannot go on: ``key`` of the catalogue for the user,
    ``reason`` (no token, no secret) for the log."""

    def __init__(self, key: str, reason: str, *, status_code: int = 401) -> None:
        super().__init__(reason)
        self.key = key
        self.reason = reason
        self.status_code = status_code


class ProConnectUnavailable(ProConnectFailure):
    """The provider could not be reached or answered nonsense (503)."""

    def __init__(self, reason: str) -> None:
        super().__init__("identity.proconnect.unavailable", reason, status_code=503)


@dataclass(frozen=True)
class Flow:
    """What one browser's sign-in carries from the start to the callback (a signed cookie)."""

    state: str
    nonce: str
    verifier: str


@dataclass(frozen=True)
class Identity:
    """Who ProConnect says signed in: its subject, the verified e-mail, the ID token (kept
    with the session for the logout's ``id_token_hint``)."""

    subject: str
    email: str
    id_token: str


def _refused(reason: str) -> ProConnectFailure:
    return ProConnectFailure("identity.proconnect.token_invalid", reason)


class ProConnect:
    """The configured provider: discovery, keys, the flow's two legs and the logout URL.

    One per app (``app.state.proconnect``); the discovery document and the keys are cached
    (``METADATA_SECONDS``), read by any thread of the app.
    """

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> None:
        assert settings.proconnect_issuer and settings.proconnect_client_id
        assert settings.proconnect_client_secret is not None
        self.issuer = settings.proconnect_issuer.rstrip("/")
        self.client_id = settings.proconnect_client_id
        self._secret = settings.proconnect_client_secret
        self.scopes = settings.proconnect_scopes
        self.acr_values = (settings.proconnect_acr_values or "").split()
        self.redirect_uri = settings.proconnect_base + CALLBACK_PATH
        self.post_logout_redirect_uri = settings.proconnect_base + LOGOUT_CALLBACK_PATH
        self._http = httpx.Client(
            timeout=settings.proconnect_timeout_seconds,
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    @property
    def origin(self) -> str:
        """The issuer's origin (scheme://host[:port]), which the pages' forms may post to."""
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def close(self) -> None:
        """Close the HTTP connections to the provider."""
        self._http.close()

    # --- Discovery and keys --------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached); its issuer must be the configured one."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < (
                METADATA_SECONDS
            ):
                return self._metadata
        document = self._get_json(f"{self.issuer}/.well-known/openid-configuration")
        if str(document.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProConnectUnavailable("the discovery document names another issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(name), str):
                raise ProConnectUnavailable(f"the discovery document has no {name}")
        with self._lock:
            self._metadata, self._metadata_at, self._keys = document, time.monotonic(), None
        return document

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The provider's public keys (cached with the discovery document)."""
        metadata = self.metadata()
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        try:
            keys = KeySet.import_key_set(self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise ProConnectUnavailable(f"unreadable JWKS ({type(error).__name__})") from None
        with self._lock:
            self._keys = keys
        return keys

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url)
        except httpx.HTTPError as error:
            raise ProConnectUnavailable(f"GET {url}: {type(error).__name__}") from None
        if answer.status_code != 200:
            raise ProConnectUnavailable(f"GET {url}: HTTP {answer.status_code}")
        try:
            document = answer.json()
        except ValueError:
            raise ProConnectUnavailable(f"GET {url}: not JSON") from None
        if not isinstance(document, dict):
            raise ProConnectUnavailable(f"GET {url}: not a JSON object")
        return document

    # --- The flow --------------------------------------------------------------------------

    def start(self) -> tuple[str, Flow]:
        """The provider's authorisation URL for a new flow, and the flow to keep."""
        metadata = self.metadata()
        flow = Flow(
            state=generate_token(RANDOM_LENGTH),
            nonce=generate_token(RANDOM_LENGTH),
            verifier=generate_token(RANDOM_LENGTH),
        )
        client = OAuth2Client(
            None,
            client_id=self.client_id,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
        )
        extra = {"acr_values": " ".join(self.acr_values)} if self.acr_values else {}
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"],
            state=flow.state,
            code_verifier=flow.verifier,
            nonce=flow.nonce,
            **extra,
        )
        return str(url), flow

    def finish(self, *, code: str, flow: Flow) -> Identity:
        """Exchange ``code`` (the state was checked by the caller) and verify what comes back
        (see the module): who signed in, or ``ProConnectFailure``."""
        metadata = self.metadata()
        tokens = self._exchange(metadata, code=code, verifier=flow.verifier)
        id_token, access_token = tokens.get("id_token"), tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise _refused("the token endpoint gave no ID token or no access token")
        claims = self._verify_id_token(id_token, nonce=flow.nonce, access_token=access_token)
        subject = claims["sub"]
        source: dict[str, Any] = dict(claims)
        if not source.get("email") and isinstance(metadata.get("userinfo_endpoint"), str):
            source = self._userinfo(metadata["userinfo_endpoint"], access_token, subject)
        email = source.get("email")
        if (
            not isinstance(email, str)
            or not email.strip()
            or source.get("email_verified")
            in (
                False,
                "false",
            )
        ):
            raise ProConnectFailure(
                "identity.proconnect.email_missing", "no verified e-mail in the claims"
            )
        return Identity(subject=str(subject), email=email, id_token=id_token)

    def _exchange(self, metadata: dict[str, Any], *, code: str, verifier: str) -> dict[str, Any]:
        url = metadata["token_endpoint"]
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = (
            "client_secret_basic" if "client_secret_basic" in methods else ("client_secret_post")
        )
        body = prepare_token_request(
            "authorization_code",
            code=code,
            redirect_uri=self.redirect_uri,
            code_verifier=verifier,
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        auth = ClientAuth(self.client_id, self._secret.get_secret_value(), method)
        url, headers, body = auth.prepare("POST", url, headers, body)
        try:
            answer = self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise ProConnectUnavailable(f"token endpoint: {type(error).__name__}") from None
        if answer.status_code in (400, 401):
            error_code = _error_code(answer)
            raise ProConnectFailure(
                "identity.proconnect.code_refused", f"token endpoint refused: {error_code}"
            )
        if answer.status_code != 200:
            raise ProConnectUnavailable(f"token endpoint: HTTP {answer.status_code}")
        try:
            tokens = answer.json()
        except ValueError:
            raise ProConnectUnavailable("token endpoint: not JSON") from None
        if not isinstance(tokens, dict):
            raise ProConnectUnavailable("token endpoint: not a JSON object")
        return tokens

    def _decode(self, token: str) -> jwt.Token:
        """``token``'s header and claims once its signature is verified with the provider's
        keys (fetched again once for an unknown key id)."""
        registry = JWSRegistry(algorithms=ALGORITHMS)
        try:
            try:
                return jwt.decode(token, self.keys(), registry=registry)
            except InvalidKeyIdError:
                keys = self.keys(refresh=True)
                if "kid" in extract_compact(token.encode("ascii")).headers():
                    return jwt.decode(token, keys, registry=registry)
            # No key id and several keys (the specification wants one then): each of the
            # provider's keys is tried; any of them may sign.
            for key in keys:
                try:
                    return jwt.decode(token, key, registry=registry)
                except JoseError:
                    continue
            raise BadSignatureError()
        except JoseError as error:
            raise _refused(f"signature: {error.error}") from None
        except (ValueError, TypeError, KeyError) as error:
            raise _refused(f"unreadable JWT ({type(error).__name__})") from None

    def _verify_id_token(self, id_token: str, *, nonce: str, access_token: str) -> CodeIDToken:
        decoded = self._decode(id_token)
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "sub": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        if self.acr_values:
            options["acr"] = {"essential": True, "values": list(self.acr_values)}
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options,
            {"nonce": nonce, "client_id": self.client_id, "access_token": access_token},
        )
        try:
            claims.validate(now=int(time.time()), leeway=LEEWAY_SECONDS)
        except JoseError as error:
            reason = f"ID token: {error.error} {getattr(error, 'claim', '')}".strip()
            raise _refused(reason) from None
        return claims

    def _userinfo(self, url: str, access_token: str, subject: str) -> dict[str, Any]:
        try:
            answer = self._http.get(url, headers={"Authorization": f"Bearer {access_token}"})
        except httpx.HTTPError as error:
            raise ProConnectUnavailable(f"userinfo: {type(error).__name__}") from None
        if answer.status_code != 200:
            raise ProConnectUnavailable(f"userinfo: HTTP {answer.status_code}")
        media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        info: Any
        if media_type == "application/jwt":
            decoded = self._decode(answer.text.strip())
            info = decoded.claims
            if str(info.get("iss", "")).rstrip("/") != self.issuer:
                raise _refused("userinfo: another issuer")
            audience = info.get("aud")
            if audience is not None and self.client_id not in (
                audience if isinstance(audience, list) else [audience]
            ):
                raise _refused("userinfo: another audience")
        else:
            try:
                info = answer.json()
            except ValueError:
                raise ProConnectUnavailable("userinfo: not JSON") from None
        if not isinstance(info, dict) or info.get("sub") != subject:
            raise _refused("userinfo: another subject than the ID token's")
        return info

    # --- Logout ----------------------------------------------------------------------------

    def logout_url(self, *, id_token: str, state: str) -> str | None:
        """The provider's RP-initiated logout URL, or ``None`` when it declares no
        ``end_session_endpoint`` on its own origin (the pages' forms may post nowhere else,
        ``form-action`` of the CSP) or cannot be reached: local logout only then."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except ProConnectUnavailable:
            return None
        if not isinstance(endpoint, str):
            return None
        parts = urlsplit(endpoint)
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            return None
        params = [
            ("id_token_hint", id_token),
            ("state", state),
            ("post_logout_redirect_uri", self.post_logout_redirect_uri),
        ]
        url = add_params_to_uri(endpoint, params)
        return str(url)


def _error_code(answer: httpx.Response) -> str:
    """The OAuth ``error`` code of an error answer (a short token, never a secret)."""
    try:
        code = answer.json().get("error")
    except (ValueError, AttributeError):
        return "unreadable"
    return code if isinstance(code, str) and code.isascii() and len(code) <= 64 else "unknown"
