"""Settings read from the environment (prefix ``ACCELERATOR_``).

Secrets have a working default only in demo mode: outside it, a missing secret stops the
process at start-up with a clear message rather than running with a guessable key.
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from accelerator.shared.addresses import AllowList
from accelerator.shared.text import t

DEMO_SECRET_KEY = "demo-only-secret-key-not-for-production-use-0123456789"
DEMO_METRICS_TOKEN = "demo-only-metrics-token-not-for-production-use-0123"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Runtime configuration of every process (API, relay, CLI)."""

    # A refused setting is told without the values given: they may hold secrets.
    model_config = SettingsConfigDict(
        env_prefix="ACCELERATOR_", extra="ignore", hide_input_in_errors=True
    )

    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Where the embedded mode keeps its SQLite database and Prefect's data.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; default: SQLite under var_dir. PostgreSQL: postgresql+psycopg://",
    )
    demo: bool = Field(default=False, description="Demo mode: demo accounts and demo secrets.")
    secret_key: str | None = Field(default=None, description="Signs access tokens.")
    token_lifetime_minutes: int = Field(default=12 * 60, ge=1)
    metrics_token: str | None = Field(
        default=None,
        min_length=32,
        description="Bearer token a Prometheus scraper presents on /metrics (admins' own tokens "
        "also work); unset outside demo mode: only admins can read /metrics.",
    )
    max_json_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body (bytes) a route takes, unless it declares its own.",
    )
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_batch_size: int = Field(default=50, ge=1, description="E-mails and webhooks per round.")
    flow_batch_size: int = Field(
        default=500, ge=1, description="Most dossiers (or launches) handled by one flow run."
    )
    flow_batch_window_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Hold flow messages until a full batch is due or the oldest has waited "
        "this long: fewer, larger runs (deployments mode); 0: start at once.",
    )
    outbox_lease_seconds: float = Field(
        default=300.0, gt=0, description="A claimed message returns to the queue after this."
    )
    smtp_host: str | None = Field(default=None, description="No host: e-mails are only logged.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "Accélérateur <ne-pas-repondre@accelerateur.localhost>"
    public_url: str = Field(default="http://127.0.0.1:8000", description="Links in e-mails.")
    flow_mode: Literal["inline", "deployments"] = Field(
        default="inline",
        description="inline: the relay runs flows; deployments: workers do (distributed mode).",
    )
    reconcile_interval_seconds: float = Field(default=300.0, gt=0)
    reconcile_grace_seconds: float = Field(
        default=300.0, ge=0, description="Work younger than this is left to the relay."
    )
    stuck_run_seconds: float = Field(
        default=1800.0, gt=0, description="A flow run RUNNING this long lost its process."
    )
    sweep_interval_seconds: float = Field(default=60.0, gt=0, description="How often rungs fire.")
    take_charge_reoffer: bool = Field(
        default=True,
        description="Past 24 h without take-in-charge, offer the dossier to another référent "
        "and alert managers (written into the definition at `accelerator catalogue load`).",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Webhook targets allowed although not public, comma-separated: host, "
        "host:port, [IPv6]:port, IP address or CIDR network (plain http allowed to them).",
    )
    sql_echo: bool = False
    db_pool_size: int = Field(
        default=5, ge=1, description="PostgreSQL connections each process keeps open."
    )
    db_max_overflow: int = Field(
        default=10, ge=0, description="Extra connections a process may open under load."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object per line (dossier reference included)."
    )
    flow_ui_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING",
        description="Lines also sent to Prefect's UI with their flow run, from this level "
        "(each batch's summary always is); INFO: every history line of every dossier.",
    )

    login_rate_per_account: str = Field(
        default="5/minute;20/hour",
        description="Sign-in attempts per account (e-mail) and window; a success clears them.",
    )
    login_rate_per_address: str = Field(
        default="30/minute", description="Failed sign-ins per client address and window."
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where sign-in attempts are counted (limits URI); several API processes "
        "must share one: redis://host:6379/0.",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For names the client; empty: the socket peer is the client.",
    )
    prefecture_name: str = Field(
        default="Préfecture des Hautes-Pyrénées",
        min_length=1,
        max_length=120,
        description="The préfecture's name, shown in the pages' header and footer.",
    )
    prefecture_timezone: str = Field(
        default="Europe/Paris",
        pattern=r"^[A-Za-z_]+(/[A-Za-z_+-]+)*$",
        max_length=64,
        description="The préfecture's IANA time zone: the platform's own instants (« situation "
        "au … ») are told in it; deadlines keep their calendar's zone.",
    )
    page_size: int = Field(
        default=20,
        ge=10,
        le=100,
        description="Rows per page of the pages' lists (holders' dossiers, the référents' "
        "queue tabs, an administration's consultations, the managers' lists, the accounts).",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="A page session ends after this inactivity."
    )
    session_absolute_hours: int = Field(
        default=12, ge=1, le=7 * 24, description="A page session ends this long after sign-in."
    )
    restart_max_failures: int = Field(
        default=5, ge=1, description="Child failures within the window that stop the whole."
    )
    restart_window_seconds: float = Field(default=60.0, gt=0)
    restart_backoff_seconds: float = Field(
        default=0.5, gt=0, description="First wait before restarting a child; doubles."
    )
    restart_backoff_max_seconds: float = Field(default=30.0, gt=0)

    max_document_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, description="Largest document a user may upload."
    )
    max_dossier_documents_bytes: int = Field(
        default=500 * 1024 * 1024, ge=1024, description="All the documents of one dossier."
    )
    storage_backend: Literal["local", "s3"] = Field(
        default="local",
        description="Where documents are kept: local (a directory), s3 (an S3-compatible "
        "bucket, for several API processes on several machines).",
    )
    storage_dir: Path | None = Field(
        default=None, description="The local backend's directory; default: var_dir/documents."
    )
    upload_staging_dir: Path | None = Field(
        default=None,
        description="Where an upload is written while it is checked (deleted at once after); "
        "default: the system's temporary directory.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (https://...); none: AWS itself."
    )
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_allow_http: bool = Field(
        default=False, description="Plain http to the endpoint (loopback tests, demo only)."
    )

    proconnect_issuer: str | None = Field(
        default=None,
        description="ProConnect's issuer URL (its discovery document is "
        "<issuer>/.well-known/openid-configuration); with the client id and secret, turns on "
        "the « S'identifier avec ProConnect » button.",
    )
    proconnect_client_id: str | None = Field(default=None, max_length=500)
    proconnect_client_secret: SecretStr | None = Field(
        default=None, description="Never logged nor shown; no default, even in demo mode."
    )
    proconnect_redirect_base: str | None = Field(
        default=None,
        description="The product's address as ProConnect sends browsers back to it "
        "(<base>/login/proconnect/callback, <base>/logout/proconnect/callback); default: "
        "ACCELERATOR_PUBLIC_URL.",
    )
    proconnect_scopes: str = Field(
        default="openid email given_name usual_name",
        description="Scopes asked of ProConnect (space-separated; openid is required).",
    )
    proconnect_acr_values: str | None = Field(
        default=None,
        description="acr_values asked of ProConnect (e.g. eidas1); the ID token's acr must "
        "then be one of them.",
    )
    proconnect_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="Longest wait for one answer of ProConnect."
    )

    @model_validator(mode="after")
    def _proconnect(self) -> Settings:
        given = {
            "ACCELERATOR_PROCONNECT_ISSUER": self.proconnect_issuer,
            "ACCELERATOR_PROCONNECT_CLIENT_ID": self.proconnect_client_id,
            "ACCELERATOR_PROCONNECT_CLIENT_SECRET": (
                self.proconnect_client_secret.get_secret_value()
                if self.proconnect_client_secret is not None
                else None
            ),
        }
        missing = [name for name, value in given.items() if not value]
        if len(missing) == len(given):
            return self
        if missing:
            raise ValueError(t("config.proconnect_incomplete", missing=", ".join(missing)))
        for name, url in (
            ("ACCELERATOR_PROCONNECT_ISSUER", self.proconnect_issuer),
            ("ACCELERATOR_PROCONNECT_REDIRECT_BASE", self.proconnect_redirect_base),
        ):
            if url is not None and not _secure_or_loopback(url):
                raise ValueError(t("config.proconnect_url_insecure", name=name))
        if "openid" not in self.proconnect_scopes.split():
            raise ValueError(t("config.proconnect_scopes_without_openid"))
        return self

    @property
    def proconnect_enabled(self) -> bool:
        """Whether sign-in with ProConnect is offered (issuer, client id and secret set)."""
        return bool(self.proconnect_issuer and self.proconnect_client_id)

    @property
    def proconnect_base(self) -> str:
        """The address ProConnect sends browsers back to (no trailing slash)."""
        return (self.proconnect_redirect_base or self.public_url).rstrip("/")

    @model_validator(mode="after")
    def _rates_and_proxies(self) -> Settings:
        from limits import parse_many

        for name in ("login_rate_per_account", "login_rate_per_address"):
            try:
                parse_many(getattr(self, name))
            except ValueError:
                raise ValueError(t("config.rates_unreadable", name=name.upper())) from None
        self.trusted_networks  # noqa: B018 - refuse an unreadable list at start-up
        try:
            ZoneInfo(self.prefecture_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                t("config.timezone_unknown", name="ACCELERATOR_PREFECTURE_TIMEZONE")
            ) from None
        return self

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The networks of ``trusted_proxies``."""
        try:
            return tuple(
                ip_network(item.strip(), strict=False)
                for item in self.trusted_proxies.split(",")
                if item.strip()
            )
        except ValueError:
            raise ValueError(t("config.trusted_proxies_unreadable")) from None

    @model_validator(mode="after")
    def _defaults_and_secret(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'accelerator.db'}"
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ValueError(t("config.secret_key_too_short"))
        AllowList.parse(self.webhook_allowed_hosts)  # a malformed list stops the process now
        if self.storage_backend == "s3":
            missing = [
                f"ACCELERATOR_{name.upper()}"
                for name in ("s3_bucket", "s3_access_key_id", "s3_secret_access_key")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(t("config.s3_settings_required", missing=", ".join(missing)))
        return self

    @property
    def documents_dir(self) -> Path:
        """The local document store's directory."""
        return self.storage_dir or self.var_dir / "documents"

    @property
    def signing_key(self) -> str:
        """The key that signs access tokens; refused when unset outside demo mode."""
        if self.secret_key is not None:
            return self.secret_key
        if self.demo:
            return DEMO_SECRET_KEY
        raise ConfigurationError(t("config.secret_key_required"))

    @property
    def metrics_scrape_token(self) -> str | None:
        """The token that opens /metrics to a scraper; none outside demo mode unless set."""
        if self.metrics_token is not None:
            return self.metrics_token
        return DEMO_METRICS_TOKEN if self.demo else None


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _secure_or_loopback(url: str) -> bool:
    """An https URL, or plain http to this machine only (a test's provider on loopback)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)


class ConfigurationError(RuntimeError):
    """The environment does not allow this process to run safely."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this process, read once."""
    return Settings()
