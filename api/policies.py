"""Who may call each route, declared beside it: the roles, and which objects each role reaches.

Every route has a ``Policy``. ``api.unit_of_work.Router`` requires one
(``@router.get(path, policy=allow(holder=Scope.OWN_ORGANISATION))``), shows it in the OpenAPI
document as ``x-access-policy``, and ``create_app`` refuses to start while a route lacks one
(``check``). The rule itself is enforced where objects are loaded (the areas' ``access`` modules and
the actions); the policy states it where a reader of the route sees it, and
``tests/api/test_access_matrix.py`` probes every route as every role against it and against
its own reading of docs/domain.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from accelerator.identity.roles import Role

F = TypeVar("F", bound=Callable[..., Any])

OPENAPI_KEY = "x-access-policy"


class Scope(StrEnum):
    """Which objects of the route a role reaches (the route's object: its path's id)."""

    #: The route takes no object (a calculator, a creation in the caller's own name), or the
    #: role reaches every object of its kind (an administrator on the catalogue).
    ANY = "any"
    #: A list, filtered by the areas' ``access`` modules to what the caller may see.
    VISIBLE = "what the caller may see"
    #: A dossier (or its clock, its request) of the holder's own organisation.
    OWN_ORGANISATION = "own organisation's dossier"
    #: Any filed dossier (or its clock): the platform works as a team; drafts stay private.
    FILED = "any filed dossier"
    #: A dossier the caller is the référent of.
    DOSSIER_REFERENT = "dossier's référent"
    #: A consultation (or its clock) of the agent's own administration.
    CONSULTED_ADMINISTRATION = "consulted administration's consultation"
    #: A dossier's document the agent's administration reads: the dossier's own documents
    #: once it is consulted on it, and the documents attached to its consultation.
    CONSULTED_DOSSIER = "document of a dossier the administration is consulted on"
    #: A webhook subscription of the agent's own administration.
    OWN_ADMINISTRATION = "own administration's subscription"


@dataclass(frozen=True)
class Policy:
    """The roles that may call a route and the scope of each; ``public``: no sign-in at all."""

    scopes: tuple[tuple[Role, Scope], ...] = ()
    public: bool = False

    def scope_of(self, role: Role) -> Scope | None:
        """The scope ``role`` has on this route, or ``None`` if the role may not call it."""
        return dict(self.scopes).get(role)

    def openapi(self) -> dict[str, Any]:
        """The policy as the OpenAPI document shows it (``x-access-policy``)."""
        return {
            "public": self.public,
            "roles": {role.value: scope.value for role, scope in self.scopes},
        }


def allow(**scopes: Scope) -> Policy:
    """A policy for signed-in users: ``allow(holder=Scope.OWN_ORGANISATION, admin=Scope.ANY)``."""
    unknown = set(scopes) - {role.value for role in Role}
    if unknown:
        raise ValueError(f"Unknown roles in a policy: {', '.join(sorted(unknown))}")
    if not scopes:
        raise ValueError("A policy names at least one role (or is PUBLIC).")
    ordered = tuple((role, scopes[role.value]) for role in Role if role.value in scopes)
    return Policy(scopes=ordered)


#: No sign-in: health and the sign-in itself.
PUBLIC = Policy(public=True)
#: Every signed-in user, no object (calculators, the calendars everyone reads).
SIGNED_IN = allow(**{role.value: Scope.ANY for role in Role})

_POLICIES: dict[Callable[..., Any], Policy] = {}
#: Paths of non-API routes (static assets) declared public with ``public_path``.
_PUBLIC_PATHS: set[str] = set()


def declare(policy: Policy) -> Callable[[F], F]:
    """Attach ``policy`` to a route function registered outside a ``Router`` (``@app.get``)."""

    def decorate(endpoint: F) -> F:
        _POLICIES[endpoint] = policy
        return endpoint

    return decorate


def public_path(path: str) -> None:
    """Declare a non-API route (a ``Mount`` of static assets) public: no data behind it."""
    _PUBLIC_PATHS.add(path)


def policy_of(route: APIRoute) -> Policy | None:
    """The policy declared for ``route`` (``None``: none was)."""
    return _POLICIES.get(route.endpoint)


@dataclass(frozen=True)
class Served:
    """A route as the app serves it: full path, methods, and the route as registered."""

    path: str
    methods: frozenset[str]
    route: BaseRoute


def served_routes(app: FastAPI) -> list[Served]:
    """Every route ``app`` serves, routers' prefixes included.

    FastAPI 0.150 includes a router lazily (one ``_IncludedRouter`` entry in ``app.routes``);
    its public ``iter_route_contexts`` walks them. Older versions copied the routes.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI < 0.150
        contexts: list[Any] = list(app.routes)
    else:
        contexts = list(iter_route_contexts(app.routes))
    return [
        Served(
            path=getattr(context, "path", None) or "",
            methods=frozenset(getattr(context, "methods", None) or ()),
            route=getattr(context, "original_route", context),
        )
        for context in contexts
    ]


def framework_paths(app: FastAPI) -> set[str]:
    """FastAPI's own pages (the OpenAPI document and its viewers) and ``public_path``s."""
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    return {path for path in paths if path} | _PUBLIC_PATHS


def check(app: FastAPI) -> None:
    """Refuse to start while a route has no declared policy (the message lists them)."""
    framework = framework_paths(app)
    missing = []
    for served in served_routes(app):
        if isinstance(served.route, APIRoute):
            if policy_of(served.route) is None:
                missing.append(f"{','.join(sorted(served.methods))} {served.path}")
        elif served.path not in framework:
            missing.append(f"{type(served.route).__name__} {served.path or served.route!r}")
    if missing:
        raise RuntimeError(
            "Routes without an access policy (declare one: api/policies.py): " + "; ".join(missing)
        )
