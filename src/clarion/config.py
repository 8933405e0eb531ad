"""Settings: one object, read from the environment (prefix ``CLARION_``)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "clarion"


class Settings(BaseSettings):
    """Server settings. Every field can be set as ``CLARION_<NAME>``."""

    model_config = SettingsConfigDict(
        env_prefix="CLARION_",
        frozen=True,
        populate_by_name=True,
        use_attribute_docstrings=True,  # each setting's docstring is what `clarion config` says
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where the embedded database and the generated server key live."""

    database_url: str | None = None
    """``sqlite:///path.db`` or ``postgresql://user@host:5432/db``; unset: SQLite in data_dir."""

    secret_key: SecretStr | None = None
    """Base64 of 32 bytes that encrypt webhook secrets; unset: generated once into data_dir."""

    auto_migrate: bool = True
    """Apply pending migrations when the server or a command starts."""

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """The largest request body (and web call frame) accepted, in bytes."""

    log_format: Literal["json", "text"] = "json"
    """One JSON object per log line, or human-readable text."""

    run_worker: bool = True
    """Deliver webhooks from inside `clarion serve` (off: run `clarion worker` processes)."""

    webhook_signing_key: SecretStr | None = None
    """A PEM EC P-256 private key; unset: generated once into data_dir, encrypted at rest."""

    outbound_allowed_networks: str = Field(
        default="",
        validation_alias=AliasChoices(
            "CLARION_ALLOWED_NETWORKS",
            "CLARION_WEBHOOK_ALLOWED_NETWORKS",  # its name before providers were reached too
            "outbound_allowed_networks",
        ),
    )
    """Comma-separated CIDRs that outbound connections (webhook deliveries, language-model
    providers) may reach although they are private or local."""

    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    """A delivery succeeds on any 2xx answered within this time."""

    webhook_retry_schedule: str = "0,5,300,1800,7200,18000,36000,36000"
    """Seconds before each attempt (the first is immediate); its length is the attempt limit."""

    webhook_lease_seconds: float = Field(default=60.0, gt=0)
    """How long a claimed delivery stays with its worker before another may take it over."""

    webhook_concurrency: int = Field(default=64, ge=1, le=1024)
    """Deliveries one worker process sends at once."""

    public_url: str | None = None
    """The server's address as clients reach it (``https://clarion.example.org``), behind a
    proxy; unset: web call URLs name the host each request came to."""

    max_live_calls_per_organization: int = Field(default=50, ge=1)
    """Calls of one organization queued or in progress at once; one more is a 429."""

    call_lease_seconds: float = Field(default=30.0, gt=0)
    """How long a live call stays with its process unrenewed before another ends it as
    ``worker-died``."""

    call_drain_seconds: float = Field(default=30.0, ge=0)
    """On SIGTERM, how long live calls may go on before they end as ``server-shutdown``."""

    call_join_seconds: float = Field(default=60.0, gt=0)
    """How long a web call waits for its caller before it ends as
    ``customer-did-not-answer``."""

    call_stream_open_seconds: float = Field(default=15.0, gt=0)
    """How long after a phone call is answered its media stream may take to open before the
    call ends as ``twilio-failed-to-connect-call``."""

    model_idle_seconds: float = Field(default=20.0, gt=0)
    """How long a language model's streamed reply may go without a piece of text or of a
    tool call before the request counts as failed."""

    openai_api_key: SecretStr | None = None
    """The OpenAI key for organizations without a credential of their own."""

    openai_base_url: str | None = None
    """Where that key is sent (an OpenAI-compatible server); unset: OpenAI's API."""

    anthropic_api_key: SecretStr | None = None
    """The Anthropic key for organizations without a credential of their own."""

    anthropic_base_url: str | None = None
    """Where that key is sent; unset: Anthropic's API."""

    deepgram_api_key: SecretStr | None = None
    """The Deepgram key (transcriber) for organizations without a credential of their own."""

    deepgram_base_url: str | None = None
    """Where that key is sent (ws, wss, http or https: the same host); unset: Deepgram's API."""

    elevenlabs_api_key: SecretStr | None = None
    """The ElevenLabs key (voice) for organizations without a credential of their own."""

    elevenlabs_base_url: str | None = None
    """Where that key is sent; unset: ElevenLabs' API."""

    twilio_api_base: str = "https://api.twilio.com"
    """Where Twilio's REST API is (a stand-in's address, in tests)."""

    endpointing_ms: int = Field(default=700, ge=100, le=5000)
    """How long the person must be silent before their turn is over, in milliseconds."""

    amd_timeout_seconds: int = Field(default=30, ge=3, le=59)
    """How long Twilio's answering-machine detection may take on an outbound phone call
    (its ``MachineDetectionTimeout``: Twilio's default and bounds), all of which the assistant
    waits in silence; a timeout counts as a person."""

    trusted_proxies: str = ""
    """Addresses of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed,
    comma-separated; unset: none, and a request comes from its peer. Sign-in throttling and the
    access log see the client's address only through a trusted proxy. Name the proxies: ``*``
    believes anyone, who can then claim any address."""

    session_idle_seconds: int = Field(default=1800, ge=60)
    """A console session unused this long ends; its browser must sign in again."""

    password_hash_memory_kib: int = Field(default=65536, ge=8192)
    """Memory argon2id uses to hash one console password, in KiB; more is slower to crack."""

    password_hash_iterations: int = Field(default=3, ge=1, le=20)
    """argon2id passes over that memory per password."""

    local_speech_processes: int | None = Field(default=None, ge=1)
    """Worker processes for the offline transcriber; unset: one per core."""

    @field_validator("outbound_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # raises ValueError on a bad CIDR
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https", "ws", "wss") or not parts.netloc:
            raise ValueError("must be an absolute URL such as https://clarion.example.org")
        if parts.query or parts.fragment:
            raise ValueError("must have no query or fragment: web call URLs are made under it")
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        delays = [float(part) for part in value.split(",")]
        if not delays or any(delay < 0 for delay in delays):
            raise ValueError("must be a comma-separated list of non-negative seconds")
        return value

    @property
    def session_idle(self) -> dt.timedelta:
        """How long a console session may go unused."""
        return dt.timedelta(seconds=self.session_idle_seconds)

    @property
    def session_touch_after(self) -> dt.timedelta:
        """How stale a session's last use may be before a request notes it again: a small
        part of the idle time, so a busy page does not write on every request."""
        return min(dt.timedelta(minutes=1), self.session_idle / 30)

    @cached_property
    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The private or local networks outbound connections may reach anyway."""
        parts = (part.strip() for part in self.outbound_allowed_networks.split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @cached_property
    def operator_hosts(self) -> frozenset[str]:
        """The hosts of the provider addresses set here: the operator's own choice, which
        the outbound guard lets through (what an organization configures it checks)."""
        urls = (
            self.openai_base_url,
            self.anthropic_base_url,
            self.deepgram_base_url,
            self.elevenlabs_base_url,
            self.twilio_api_base,
        )
        hosts = (urlsplit(url).hostname for url in urls if url)
        return frozenset(host for host in hosts if host)

    @cached_property
    def retry_delays(self) -> tuple[float, ...]:
        """Seconds before each delivery attempt, from ``webhook_retry_schedule``."""
        return tuple(float(part) for part in self.webhook_retry_schedule.split(","))

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None:
            sqlalchemy_url(value)  # raises ValueError on a scheme we do not serve
        return value

    @cached_property
    def database(self) -> URL:
        """The SQLAlchemy URL, with the driver chosen by us rather than the user."""
        if self.database_url is None:
            return make_url(f"sqlite+pysqlite:///{self.data_dir / 'clarion.db'}")
        return sqlalchemy_url(self.database_url)


@dataclass(frozen=True, slots=True)
class ShownSetting:
    """A setting as an operator is shown it."""

    variable: str
    value: str
    about: str


def shown_settings(settings: Settings) -> list[ShownSetting]:
    """Every setting with its environment variable and current value: a secret only as set
    or not set, a database URL without its password."""
    shown = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            text = "set"
        elif name == "database_url" and value is not None:
            text = make_url(value).render_as_string(hide_password=True)
        elif name == "database_url":
            text = f"not set: {settings.database.render_as_string(hide_password=True)}"
        elif value is None or value == "":
            text = "not set"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        about = " ".join((field.description or "").split())
        shown.append(ShownSetting(_variable(name, field), text, about))
    return shown


def _variable(name: str, field: FieldInfo) -> str:
    if isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0])
    return f"CLARION_{name.upper()}"


_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def sqlalchemy_url(plain: str) -> URL:
    """Turn a plain database URL into one naming the driver this project ships."""
    url = make_url(plain)
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {url.drivername!r}: use sqlite or postgresql"
        )
    return url.set(drivername=driver)
