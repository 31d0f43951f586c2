"""ProConnect in a real browser (Debian's Chromium through Playwright): the product served on
loopback with ProConnect configured against a real OpenID provider on loopback
(``tests/pages/provider.py``); a person clicks the DSFR ProConnect button, authorises at the
provider, lands in their space, and signs out of both (the CSP's ``form-action`` lets the
sign-out form's redirect reach the provider's logout, and nothing else)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pages.browser import chromium, seeded_database, serve
from tests.pages.provider import Provider, openid_provider
from tests.pages.test_browser import _serious

#: The demo world's référent, as the provider knows them.
SUBJECT = "sub-referent-demo"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """The OpenID provider on loopback, for the module."""
    with openid_provider() as started:
        started.set_user(SUBJECT, email="referent@demo.test", given_name="Camille")
        yield started


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[str]:
    """The product on a seeded SQLite database, ProConnect configured, on a free port."""
    url = seeded_database(Path(tmp_path_factory.mktemp("proconnect")))

    def configure(base: str) -> dict[str, Any]:
        client_id, secret = provider.register(base + "/login/proconnect/callback")
        return {
            "proconnect_issuer": provider.issuer,
            "proconnect_client_id": client_id,
            "proconnect_client_secret": secret,
            "proconnect_redirect_base": base,
        }

    with serve(url, configure=configure) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, once for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh context; a script error or a CSP violation on the product's pages fails."""
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []

    def on_console(message: Any) -> None:
        on_product = opened.url.startswith(base_url)
        if message.type == "error" and on_product and not message.text.startswith("Failed"):
            errors.append(message.text)

    opened.on("console", on_console)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    context.close()
    assert errors == []


def test_a_person_signs_in_with_proconnect_and_out_of_both(
    page: Any, base_url: str, provider: Provider
) -> None:
    page.goto(base_url + "/login")
    button = page.get_by_role("link", name="S’identifier avec ProConnect")
    assert button.get_attribute("class") == "fr-connect fr-connect--pro"
    assert _serious(page) == []
    button.click()
    page.wait_for_load_state()
    assert page.url.startswith(provider.issuer + "/oauth2/authorize?")
    page.locator("input[name=sub]").fill(SUBJECT)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(base_url + "/file-de-travail")
    assert page.locator("h1").inner_text() == "Ma file de travail"
    assert len(provider.steering.verified) == 1  # PKCE checked by the provider

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_load_state()
    assert page.url.startswith(provider.issuer + "/oauth2/end_session?")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(base_url + "/")
    page.goto(base_url + "/file-de-travail")
    assert page.url == base_url + "/login"


def test_a_person_who_denies_at_proconnect_is_back_on_the_sign_in_page(
    page: Any, base_url: str, provider: Provider
) -> None:
    page.goto(base_url + "/login")
    page.get_by_role("link", name="S’identifier avec ProConnect").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Deny").click()
    page.wait_for_load_state()
    assert page.url.startswith(base_url + "/login/proconnect/callback")
    assert "Connexion avec ProConnect annulée" in page.locator("#login-alert").inner_text()
    assert page.locator("h1").count() == 1
    assert _serious(page) == []
