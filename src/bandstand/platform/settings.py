"""Settings for every service, read from `BANDSTAND_*` environment variables and `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration of a Bandstand process.

    Per-service values are dictionaries keyed by service name, set with a double underscore:
    `BANDSTAND_DATABASES__IDENTITY=postgresql+asyncpg://...`,
    `BANDSTAND_SERVICE_URLS__IDENTITY=http://127.0.0.1:8001` (or a JSON list of replicas' URLs).
    """

    model_config = SettingsConfigDict(
        env_prefix="BANDSTAND_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: str = Field("development", description="Free-form name shown in logs.")
    data_dir: Path = Field(
        Path("var"), description="Where SQLite files, keys and the embedded broker live."
    )
    host: str = Field("127.0.0.1", description="Address `bandstand up` and `serve` listen on.")
    port: int = Field(8080, description="Port of `bandstand up` (the gateway).")
    databases: dict[str, str] = Field(
        default_factory=dict,
        description="Database URL per service; default `sqlite+aiosqlite:///<data_dir>/<service>.sqlite3`.",
    )
    database_pool_size: int | None = Field(
        None,
        ge=1,
        description="Connections kept per service engine, and more while requests wait (a "
        "quarter as many on PostgreSQL, as many on SQLite; default 8 on PostgreSQL, 32 on "
        "SQLite).",
    )
    computing_threads: int | None = Field(
        None,
        ge=1,
        description="Threads for the CPU-bound work a process hands off its event loop (the "
        "search index's searches); default the cores it may run on. Replicas sharing a "
        "machine: its cores divided among them.",
    )
    broker_url: str = Field(
        "embedded://",
        description="`embedded://` (SQLite file in the data dir), `embedded:///path.sqlite3`, or `amqp://...`.",
    )
    cache_url: str = Field("memory://", description="`memory://` or `redis://host:port/db`.")
    cache_max_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Largest size of the in-memory cache of answers; past it the oldest go.",
    )
    security_store_url: str = Field(
        "",
        description="Where revoked tokens and sessions and rate-limit counters live, apart from "
        "cached answers: `memory://` (never evicted before expiry) or `redis://...` (keys "
        "prefixed `security:`; use a Redis whose `maxmemory-policy` is `noeviction`). "
        "Empty: the cache's URL.",
    )
    service_urls: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Base URL per service for distributed mode, e.g. `http://127.0.0.1:8001`, "
        "or a JSON list of its replicas' URLs, e.g. "
        '`["http://10.0.0.5:8002", "http://10.0.0.6:8002"]`, which the gateway balances across.',
    )
    jwt_private_key_path: Path | None = Field(
        None,
        description=(
            "Ed25519 private key (PEM) identity signs with; generated in the data dir if unset."
        ),
    )
    web_secret: SecretStr | None = Field(
        None,
        description=(
            "Signs the pages' CSRF tokens and messages; every replica of `web` needs the same. "
            "Generated in the data dir (`web-secret`) if unset."
        ),
    )
    jwks_url: str | None = Field(
        None,
        description=(
            "Where services fetch the public keys; default `<identity url>/.well-known/jwks.json`."
        ),
    )
    jwt_issuer: str = Field("bandstand-identity", description="`iss` claim of access tokens.")
    jwt_audience: str = Field("bandstand", description="`aud` claim of access tokens.")
    access_token_ttl_seconds: int = Field(900, description="Lifetime of an access token.")
    refresh_token_ttl_seconds: int = Field(
        30 * 24 * 3600, description="Lifetime of a refresh token."
    )
    jwks_cache_seconds: int = Field(300, description="How long services cache the JWKS.")
    login_max_failures: int = Field(
        5, description="Failed logins allowed per client IP and username."
    )
    login_failure_window_seconds: int = Field(60, description="Window of the login failure limit.")
    login_max_failures_per_address: int = Field(
        20, ge=1, description="Failed logins allowed per client IP, whatever the account."
    )
    login_account_delay_after: int = Field(
        10,
        ge=1,
        description="Failed logins of one account, from any address, before each further login "
        "of it is delayed (doubling from 0.5 s); the account is never locked.",
    )
    login_account_window_seconds: int = Field(
        900, ge=1, description="Window of the per-account failure count."
    )
    login_account_max_delay_seconds: float = Field(
        8.0, ge=0, description="Longest delay of a login of an account under attack."
    )
    password_hashing_max_concurrent: int = Field(
        8,
        ge=1,
        description="Password hashes (register, login, password change) computed or waiting at "
        "once per process; past it, 503 with `Retry-After`.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Networks of the proxies in front (the ingress before the gateway, the "
        "gateway before a service) whose X-Forwarded-For and X-Forwarded-Proto are believed; "
        "empty: nobody's, the socket's peer is the client.",
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS.")
    max_body_bytes: int = Field(
        1024 * 1024, description="Largest request body the gateway and every service accept."
    )
    metrics_public: bool = Field(
        False,
        description="Serve the gateway's `/metrics` and the detail of its `/ready` to anyone "
        "(false: to admins only; anonymous `/ready` answers its status alone).",
    )
    upstream_connect_timeout: float = Field(
        2.0, description="Gateway connect timeout to a service."
    )
    upstream_read_timeout: float = Field(30.0, description="Gateway read timeout from a service.")
    upstream_pool_size: int = Field(256, description="Keep-alive connections the gateway pools.")
    log_level: str = Field("INFO", description="Log level.")
    log_json: bool = Field(True, description="JSON logs (false: human-readable console logs).")
    access_log: bool = Field(True, description="Log one line per request.")
    drain_seconds: float = Field(
        5.0,
        ge=0,
        description="On SIGTERM, how long `bandstand serve` keeps serving while `/ready` says 503 "
        "and responses close their connections, so load balancers move away before it stops.",
    )
    outbox_poll_seconds: float = Field(
        1.0, description="How often the outbox relay looks for work."
    )
    outbox_linger_seconds: float = Field(
        0.005,
        ge=0,
        description="How long the outbox relay, woken by a commit, waits for the next commits "
        "to publish them together.",
    )
    worker_prefetch: int = Field(
        64, ge=1, description="Messages a worker takes from its queue before acking the first."
    )
    worker_retry_seconds: float = Field(
        1.0,
        gt=0,
        description="A worker's first retry delay for a failing message (doubling, 5 attempts).",
    )
    public_cache_seconds: float = Field(
        1.0,
        ge=0,
        description="How long anonymous GETs of public lists are served from the cache (0: never); "
        "older entries are answered for 10 s more while one background request refreshes them; "
        "a committed write of the service ends them at once.",
    )
    list_count_cache_seconds: float = Field(
        30.0,
        ge=0,
        description="How long the count of a large list, and where its deep pages start, may be "
        "reused; any committed write of the service renews them (0: never).",
    )
    search_index_poll_seconds: float = Field(
        1.0,
        ge=0,
        description="How often a service's search index catches up with its database besides "
        "before each search (0: no index, searches run in SQL).",
    )
    retention_outbox_days: int = Field(
        7, ge=0, description="Days published outbox rows are kept (0: forever)."
    )
    retention_processed_messages_days: int = Field(
        30, ge=0, description="Days the ids of processed messages are kept (0: forever)."
    )
    retention_audit_days: int = Field(
        365, ge=0, description="Days admin keeps audit log entries (0: forever)."
    )
    retention_interval_seconds: float = Field(
        3600.0,
        gt=0,
        description="How often each service prunes what is past its retention (once across "
        "replicas, in batches).",
    )
    retention_batch_size: int = Field(
        1000, ge=1, description="Rows the retention job deletes per transaction."
    )
    text_index_upkeep_seconds: float = Field(
        600.0,
        gt=0,
        description="How often each service on SQLite merges the segments of its trigram "
        "indexes into one (see `platform.text_index_upkeep`).",
    )

    def database_url(self, service: str) -> str:
        configured = self.databases.get(service)
        if configured:
            return configured
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.sqlite3').resolve()}"

    def service_replicas(self, service: str) -> list[str]:
        """The base URLs of a service's replicas; empty when none is configured."""
        configured = self.service_urls.get(service) or []
        urls = [configured] if isinstance(configured, str) else configured
        return [url.rstrip("/") for url in urls if url]

    def service_url(self, service: str) -> str | None:
        """One base URL of a service: its first replica's."""
        replicas = self.service_replicas(service)
        return replicas[0] if replicas else None

    def jwks_urls(self) -> list[str]:
        """Where the public keys are fetched, tried in turn: `jwks_url`, else every replica of
        identity's (so that one replica down does not stop token checks)."""
        if self.jwks_url:
            return [self.jwks_url]
        return [f"{url}/.well-known/jwks.json" for url in self.service_replicas("identity")]

    def resolved_jwks_url(self) -> str | None:
        urls = self.jwks_urls()
        return urls[0] if urls else None


@lru_cache
def get_settings() -> Settings:
    return Settings()
