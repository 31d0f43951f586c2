"""Sign-in with ProConnect against a real OpenID provider on loopback (``tests/pages/provider.py``),
over real HTTP between the product and the provider, on SQLite and PostgreSQL: the happy path
for every role, and each refusal (unknown, deactivated account, no or unverified e-mail,
another browser's state, the person's refusal, a bad signature, another nonce, audience or
issuer, an expired token), the shared sign-in budget, the logout at the provider, and the
settings (docs/security.md, "ProConnect")."""

from __future__ import annotations

import html
import io
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select, update

from accelerator.identity.models import User
from accelerator.identity.sessions import WebSession, token_hash
from accelerator.shared.config import Settings
from accelerator.shared.text import t
from api import policies
from api.app import create_app
from tests.pages.conftest import ACCOUNTS, HTML, sign_in
from tests.pages.provider import REMOVE, Provider, openid_provider

BASE = "http://127.0.0.1"
CALLBACK = f"{BASE}/login/proconnect/callback"
SESSION_COOKIE = "accelerator-session"
#: Stands for the product's client id in a test's parameters.
CLIENT = object()


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The OpenID provider, once for the module; its users are the pages' accounts."""
    with openid_provider() as started:
        for email in ACCOUNTS:
            started.set_user(_subject(email), email=email, given_name="Camille", usual_name="Roux")
        yield started


@pytest.fixture(autouse=True)
def _steer_nothing(provider: Provider) -> Iterator[None]:
    provider.steering.reset()
    yield
    provider.steering.reset()


def _subject(email: str) -> str:
    return "sub-" + email.split("@")[0]


def _settings(db: Any, provider: Provider, **extra: Any) -> Settings:
    client_id, secret = provider.register(CALLBACK)
    values: dict[str, Any] = {
        "database_url": db.url,
        "demo": True,
        "proconnect_issuer": provider.issuer,
        "proconnect_client_id": client_id,
        "proconnect_client_secret": secret,
        "proconnect_redirect_base": BASE,
    }
    return Settings(**{**values, **extra})


@pytest.fixture
def app(db: Any, provider: Provider) -> FastAPI:
    """The app with ProConnect configured against the provider (demo mode, plain http)."""
    return create_app(_settings(db, provider))


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Every line the product logs meanwhile (its loggers do not propagate to pytest's)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    logger = logging.getLogger("accelerator")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def _authorize(provider: Provider, location: str, form: dict[str, str]) -> str:
    """What a person does at the provider: authorise (or deny); where it sends them back."""
    assert location.startswith(f"{provider.issuer}/oauth2/authorize?"), location
    page = httpx.get(location)
    assert page.status_code == 200, page.text
    answer = httpx.post(location, data=form)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def through_provider(
    client: TestClient, provider: Provider, subject: str, *, deny: bool = False
) -> httpx.Response:
    """Click the ProConnect button, authorise at the provider as ``subject``, come back."""
    start = client.get("/login/proconnect", headers=HTML, follow_redirects=False)
    assert start.status_code == 303, start.text
    back = _authorize(
        provider, start.headers["location"], {"action": "deny"} if deny else {"sub": subject}
    )
    assert back.startswith(CALLBACK + "?"), back
    return client.get(back, headers=HTML, follow_redirects=False)


def _sessions(db: Any) -> list[WebSession]:
    with db.transaction() as session:
        return list(session.scalars(select(WebSession)))


def _said(answer: httpx.Response) -> str:
    """The status and the sign-in page's alert, for a failing assertion's message."""
    found = re.search(r'id="login-alert">\s*<p>(.*?)</p>', answer.text, re.S)
    return f"{answer.status_code} {found.group(1) if found else answer.text[:200]}"


def _alert(key: str, **params: Any) -> str:
    return html.escape(t(key, **params), quote=False).replace("'", "&#39;")


# --- The happy path ----------------------------------------------------------------------


def test_each_role_signs_in_through_proconnect_and_lands_in_its_space(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider, db: Any
) -> None:
    for email, landing in accounts.items():
        client = browser_client()
        answer = through_provider(client, provider, _subject(email))
        assert answer.status_code == 303, _said(answer)
        assert answer.headers["location"] == landing
        space = client.get(landing, headers=HTML)
        assert space.status_code == 200 and space.text.count("<h1") == 1
        assert "accelerator-proconnect" not in client.cookies  # the flow is played once
    rows = _sessions(db)
    assert len(rows) == len(accounts) == 5
    assert all(row.id_token and row.id_token.count(".") == 2 for row in rows)
    # PKCE S256 was used and checked by the provider for every sign-in.
    assert len(provider.steering.verified) == 5


def test_the_authorisation_request_carries_pkce_state_nonce_and_the_scopes(
    browser_client: Callable[[], TestClient], provider: Provider
) -> None:
    start = browser_client().get("/login/proconnect", headers=HTML, follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["response_type"] == ["code"] and query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["scope"] == ["openid email given_name usual_name"]
    assert "code_verifier" not in query and "client_secret" not in query
    cookie = start.headers["set-cookie"]
    assert cookie.startswith("accelerator-proconnect=") and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Max-Age=600" in cookie


def test_a_proconnect_sign_in_opens_a_new_session_like_the_form(
    signed_in: Callable[[str], TestClient], provider: Provider, db: Any
) -> None:
    client = signed_in("referent@pages.test")
    before = client.cookies[SESSION_COOKIE]
    answer = through_provider(client, provider, _subject("referent@pages.test"))
    assert answer.status_code == 303 and answer.headers["location"] == "/file-de-travail", _said(
        answer
    )
    after = client.cookies[SESSION_COOKIE]
    assert after != before
    ids = {row.id for row in _sessions(db)}
    assert token_hash(before) not in ids and token_hash(after) in ids


def test_the_email_is_matched_whatever_its_case(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider
) -> None:
    provider.set_user("sub-shouting", email="  Manager@PAGES.Test ")
    answer = through_provider(browser_client(), provider, "sub-shouting")
    assert answer.status_code == 303 and answer.headers["location"] == "/pilotage", _said(answer)


def test_the_email_is_read_from_userinfo_when_the_id_token_has_none(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider
) -> None:
    provider.steering.id_token_claims = {"email": REMOVE}
    answer = through_provider(browser_client(), provider, _subject("agent@pages.test"))
    assert answer.status_code == 303 and answer.headers["location"] == "/mes-consultations", _said(
        answer
    )
    # ProConnect answers userinfo as a signed JWT: verified with the provider's keys.
    provider.steering.userinfo_jwt = True
    answer = through_provider(browser_client(), provider, _subject("agent@pages.test"))
    assert answer.status_code == 303 and answer.headers["location"] == "/mes-consultations", _said(
        answer
    )


# --- Refusals ----------------------------------------------------------------------------


def _refused(answer: httpx.Response, key: str, status: int = 401, **params: Any) -> None:
    assert answer.status_code == status, _said(answer)
    assert _alert(key, **params) in answer.text, _said(answer)
    assert 'id="login-alert"' in answer.text and "<h1" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


def test_an_unknown_email_gets_no_account(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider, db: Any
) -> None:
    provider.set_user("sub-stranger", email="stranger@pages.test")
    answer = through_provider(browser_client(), provider, "sub-stranger")
    _refused(answer, "identity.proconnect.account_unknown", email="stranger@pages.test")
    assert _sessions(db) == []
    with db.transaction() as session:
        assert session.scalar(select(User).where(User.email == "stranger@pages.test")) is None


def test_a_deactivated_account_is_refused(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider, db: Any
) -> None:
    with db.transaction() as session:
        session.execute(update(User).where(User.email == "holder@pages.test").values(active=False))
    answer = through_provider(browser_client(), provider, _subject("holder@pages.test"))
    _refused(answer, "identity.proconnect.account_deactivated")
    assert _sessions(db) == []


@pytest.mark.parametrize(
    "claims",
    [
        {"given_name": "Sans"},
        {"email": "", "given_name": "Vide"},
        {"email": "holder@pages.test", "email_verified": False},
    ],
    ids=["no-email", "empty-email", "unverified"],
)
def test_a_missing_or_unverified_email_is_refused(
    browser_client: Callable[[], TestClient],
    accounts: dict[str, str],
    provider: Provider,
    db: Any,
    claims: dict[str, Any],
) -> None:
    provider.set_user("sub-doubtful", **claims)
    answer = through_provider(browser_client(), provider, "sub-doubtful")
    _refused(answer, "identity.proconnect.email_missing")
    assert _sessions(db) == []


def test_a_callback_without_this_browsers_state_is_refused(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider, db: Any
) -> None:
    victim, attacker = browser_client(), browser_client()
    # The attacker's own authorisation, delivered to another browser (login CSRF): refused.
    start = attacker.get("/login/proconnect", headers=HTML, follow_redirects=False)
    back = _authorize(provider, start.headers["location"], {"sub": _subject("admin@pages.test")})
    _refused(victim.get(back, headers=HTML), "identity.proconnect.state_mismatch", 400)
    # The right browser, but another state than its flow's.
    forged = back.replace("state=", "state=x")
    _refused(attacker.get(forged, headers=HTML), "identity.proconnect.state_mismatch", 400)
    # The flow is over once answered: the genuine callback does not work afterwards either.
    _refused(attacker.get(back, headers=HTML), "identity.proconnect.state_mismatch", 400)
    assert _sessions(db) == []


def test_a_person_who_denies_at_the_provider_is_told_so(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider
) -> None:
    answer = through_provider(browser_client(), provider, "", deny=True)
    _refused(answer, "identity.proconnect.cancelled")


@pytest.mark.parametrize(
    "steer",
    [
        {"bad_signature": True},
        {"id_token_claims": {"nonce": "another-flows-nonce"}},
        {"id_token_claims": {"nonce": REMOVE}},
        {"id_token_claims": {"aud": "another-client"}},
        {"id_token_claims": {"aud": ["another-client", "a-third"]}},
        {"id_token_claims": {"aud": "another-client", "azp": CLIENT}},
        {"id_token_claims": {"iss": "http://127.0.0.1:1"}},
        {"id_token_claims": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}},
        {"id_token_claims": {"sub": REMOVE}},
    ],
    ids=[
        "bad-signature",
        "other-nonce",
        "no-nonce",
        "other-audience",
        "other-audiences",
        "other-audience-this-azp",
        "other-issuer",
        "expired",
        "no-subject",
    ],
)
def test_an_id_token_that_does_not_verify_is_refused(
    browser_client: Callable[[], TestClient],
    accounts: dict[str, str],
    provider: Provider,
    db: Any,
    logged: io.StringIO,
    steer: dict[str, Any],
    app: FastAPI,
) -> None:
    for name, value in steer.items():
        if isinstance(value, dict):
            client_id = app.state.proconnect.client_id
            value = {k: client_id if v is CLIENT else v for k, v in value.items()}
        setattr(provider.steering, name, value)
    answer = through_provider(browser_client(), provider, _subject("holder@pages.test"))
    _refused(answer, "identity.proconnect.token_invalid")
    assert _sessions(db) == []
    assert "ProConnect sign-in refused" in logged.getvalue()


def test_an_issuer_parameter_of_another_provider_is_refused(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider
) -> None:
    client = browser_client()
    start = client.get("/login/proconnect", headers=HTML, follow_redirects=False)
    back = _authorize(provider, start.headers["location"], {"sub": _subject("admin@pages.test")})
    mixed_up = back + "&iss=https%3A%2F%2Fanother-provider.example"
    _refused(client.get(mixed_up, headers=HTML), "identity.proconnect.token_invalid")


def test_a_code_the_token_endpoint_refuses_is_a_french_refusal(
    db: Any, accounts: dict[str, str], provider: Provider
) -> None:
    settings = _settings(db, provider)
    wrong = settings.model_copy(update={"proconnect_client_secret": SecretStr("not-the-secret")})
    with TestClient(create_app(wrong), base_url=BASE) as client:
        answer = through_provider(client, provider, _subject("holder@pages.test"))
        _refused(answer, "identity.proconnect.code_refused")


def test_acr_values_are_asked_and_the_id_tokens_acr_must_be_one_of_them(
    db: Any, accounts: dict[str, str], provider: Provider
) -> None:
    app = create_app(_settings(db, provider, proconnect_acr_values="eidas1"))
    with TestClient(app, base_url=BASE) as client:
        start = client.get("/login/proconnect", headers=HTML, follow_redirects=False)
        assert parse_qs(urlsplit(start.headers["location"]).query)["acr_values"] == ["eidas1"]
        answer = through_provider(client, provider, _subject("holder@pages.test"))
        _refused(answer, "identity.proconnect.token_invalid")  # the mock sends no acr
        provider.steering.id_token_claims = {"acr": "eidas2"}
        answer = through_provider(client, provider, _subject("holder@pages.test"))
        _refused(answer, "identity.proconnect.token_invalid")
        provider.steering.id_token_claims = {"acr": "eidas1"}
        answer = through_provider(client, provider, _subject("holder@pages.test"))
        assert answer.status_code == 303, _said(answer)


def test_userinfo_of_another_subject_is_refused(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider
) -> None:
    provider.steering.id_token_claims = {"email": REMOVE}
    provider.steering.userinfo_claims = {"sub": "someone-else", "email": "admin@pages.test"}
    answer = through_provider(browser_client(), provider, _subject("holder@pages.test"))
    _refused(answer, "identity.proconnect.token_invalid")


def test_no_token_code_or_secret_reaches_the_answers_or_the_logs(
    browser_client: Callable[[], TestClient],
    accounts: dict[str, str],
    provider: Provider,
    db: Any,
    logged: io.StringIO,
) -> None:
    settings = _settings(db, provider)
    app = create_app(settings)
    secret = settings.proconnect_client_secret
    assert secret is not None and secret.get_secret_value() not in repr(settings)
    shown: list[str] = []
    with TestClient(app, base_url=BASE) as client:
        start = client.get("/login/proconnect", headers=HTML, follow_redirects=False)
        back = _authorize(
            provider, start.headers["location"], {"sub": _subject("admin@pages.test")}
        )
        code = parse_qs(urlsplit(back).query)["code"][0]
        provider.steering.bad_signature = True
        answer = client.get(back, headers=HTML)
        shown.append(answer.text + str(answer.headers))
        provider.steering.reset()
        answer = through_provider(client, provider, _subject("admin@pages.test"))
        shown.append(answer.text + str(answer.headers))
        shown.append(client.get("/login", headers=HTML).text)
    id_token = next(row.id_token for row in _sessions(db))
    assert id_token
    everything = "".join(shown) + logged.getvalue()
    for secret_value in (secret.get_secret_value(), code, id_token, *provider.steering.verified):
        assert secret_value not in everything


def test_failed_callbacks_spend_the_sign_in_budget_of_the_address(
    db: Any, accounts: dict[str, str], provider: Provider
) -> None:
    app = create_app(_settings(db, provider, login_rate_per_address="2/minute"))
    provider.set_user("sub-stranger", email="stranger@pages.test")
    with TestClient(app, base_url=BASE) as client:
        for _ in range(2):
            assert through_provider(client, provider, "sub-stranger").status_code == 401
        throttled = through_provider(client, provider, _subject("holder@pages.test"))
        assert throttled.status_code == 429 and throttled.headers["Retry-After"].isdigit()
        # The same budget as the form's and the API's.
        assert sign_in(client, "holder@pages.test").status_code == 429


def test_an_unreachable_provider_is_a_french_503_never_a_500(
    db: Any, accounts: dict[str, str]
) -> None:
    settings = Settings(
        database_url=db.url,
        demo=True,
        proconnect_issuer="http://127.0.0.1:9",  # discard: nothing listens
        proconnect_client_id="client",
        proconnect_client_secret="secret",
        proconnect_redirect_base=BASE,
        proconnect_timeout_seconds=2,
    )
    with TestClient(create_app(settings), base_url=BASE) as client:
        answer = client.get("/login/proconnect", headers=HTML, follow_redirects=False)
        _refused(answer, "identity.proconnect.unavailable", 503)


# --- Logout ------------------------------------------------------------------------------


def test_logout_of_a_proconnect_session_goes_on_to_the_providers_logout(
    browser_client: Callable[[], TestClient], accounts: dict[str, str], provider: Provider, db: Any
) -> None:
    client = browser_client()
    assert through_provider(client, provider, _subject("holder@pages.test")).status_code == 303
    [row] = _sessions(db)
    page = client.get("/mes-dossiers", headers=HTML)
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = client.post("/logout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and _sessions(db) == []
    location = out.headers["location"]
    assert location.startswith(f"{provider.issuer}/oauth2/end_session?")
    query = parse_qs(urlsplit(location).query)
    assert query["id_token_hint"] == [row.id_token]
    assert query["post_logout_redirect_uri"] == [f"{BASE}/logout/proconnect/callback"]
    state = query["state"][0]
    assert len(state) >= 32
    # At the provider: confirm, and come back with the state.
    confirm = httpx.get(location)
    assert confirm.status_code == 200
    redirect_uri = confirm.text.split('name="redirect_uri" value="', 1)[1].split('"', 1)[0]
    back = httpx.post(
        f"{provider.issuer}/oauth2/end_session/confirm",
        data={"redirect_uri": html.unescape(redirect_uri)},
    )
    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["location"]).query)["state"] == [state]
    home = client.get(back.headers["location"], headers=HTML, follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/"
    assert (
        client.get("/mes-dossiers", headers=HTML, follow_redirects=False).headers["location"]
        == "/login"
    )


def test_logout_of_a_password_session_stays_local(
    signed_in: Callable[[str], TestClient],
) -> None:
    client = signed_in("holder@pages.test")
    page = client.get("/mes-dossiers", headers=HTML)
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = client.post("/logout", data={"csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/"


# --- The sign-in page, the routes, the settings --------------------------------------------


def test_the_button_and_the_routes_exist_only_when_proconnect_is_configured(
    app: FastAPI, db: Any
) -> None:
    with TestClient(app, base_url=BASE) as client:
        page = client.get("/login", headers=HTML)
        assert 'class="fr-connect fr-connect--pro" href="/login/proconnect"' in page.text
        assert t("pages.login.proconnect_login") in page.text
        assert "<script>" not in page.text and " style=" not in page.text
        assert (
            f"form-action 'self' {app.state.proconnect.origin};"
            in page.headers["content-security-policy"]
        )
    served = {
        route.path: policies.policy_of(route.route)
        for route in policies.served_routes(app)
        if "proconnect" in route.path
    }
    assert set(served) == {
        "/login/proconnect",
        "/login/proconnect/callback",
        "/logout/proconnect/callback",
    }
    assert all(policy == policies.PUBLIC for policy in served.values())
    plain = create_app(Settings(database_url=db.url, demo=True))
    with TestClient(plain, base_url=BASE) as client:
        page = client.get("/login", headers=HTML)
        assert "fr-connect" not in page.text
        assert "form-action 'self';" in page.headers["content-security-policy"]
        assert client.get("/login/proconnect", headers=HTML).status_code == 404


@pytest.mark.parametrize(
    "given",
    [
        {"proconnect_issuer": "https://auth.example.gouv.fr"},
        {"proconnect_client_id": "client"},
        {"proconnect_client_secret": "secret"},
        {"proconnect_issuer": "https://auth.example.gouv.fr", "proconnect_client_id": "client"},
        {"proconnect_client_id": "client", "proconnect_client_secret": "secret"},
    ],
)
def test_a_partial_configuration_is_refused_in_french(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(demo=True, **given)
    message = str(refused.value)
    assert "ProConnect est configuré à moitié" in message
    names = {
        "proconnect_issuer": "ACCELERATOR_PROCONNECT_ISSUER",
        "proconnect_client_id": "ACCELERATOR_PROCONNECT_CLIENT_ID",
        "proconnect_client_secret": "ACCELERATOR_PROCONNECT_CLIENT_SECRET",
    }
    for field, name in names.items():
        assert (name in message) is (field not in given), name
    assert "secret" not in message.split("il manque")[0] + message.split("ou aucun")[-1]


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"proconnect_issuer": "http://auth.example.gouv.fr"}, "config.proconnect_url_insecure"),
        (
            {"proconnect_redirect_base": "http://accelerateur.example.fr"},
            "config.proconnect_url_insecure",
        ),
        ({"proconnect_scopes": "email given_name"}, "config.proconnect_scopes_without_openid"),
    ],
)
def test_an_unsafe_configuration_is_refused(extra: dict[str, str], key: str) -> None:
    values = {
        "proconnect_issuer": "https://auth.example.gouv.fr",
        "proconnect_client_id": "client",
        "proconnect_client_secret": "a-secret-never-shown",
        **extra,
    }
    with pytest.raises(ValidationError) as refused:
        Settings(demo=True, **values)
    assert t(key, name="X").split("X", 1)[-1][:20] in str(refused.value)
    assert "a-secret-never-shown" not in str(refused.value)


def test_a_complete_safe_configuration_turns_proconnect_on() -> None:
    assert not Settings(demo=True).proconnect_enabled
    settings = Settings(
        demo=True,
        proconnect_issuer="https://auth.example.gouv.fr/api/v2",
        proconnect_client_id="client",
        proconnect_client_secret="a-secret-never-shown",
        public_url="https://accelerateur.example.gouv.fr/",
    )
    assert settings.proconnect_enabled
    assert settings.proconnect_base == "https://accelerateur.example.gouv.fr"
    assert "a-secret-never-shown" not in repr(settings) + str(settings.model_dump())
