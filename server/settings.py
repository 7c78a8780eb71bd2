"""The one settings object of CTS: every knob is a ``CTS_`` environment variable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.exchange.throttle import RateLimits

if TYPE_CHECKING:
    from server.access.limits import LimitsConfig
    from server.alerts.delivery.dispatcher import DeliveryPolicy
    from server.engine.loading import LoadPlan
    from server.exchange.access import AccessConfig


class Settings(BaseSettings):
    """Configuration of the server, Envoy, the dashboard and ``cts up``.

    Values come from the environment (``CTS_GRPC_PORT=50052``) or from keyword arguments in
    tests. Secrets are ``SecretStr`` so that they never print.
    """

    model_config = SettingsConfigDict(env_prefix="CTS_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("data"), description="Folder for SQLite, keys and tokens.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default SQLite at $CTS_DATA_DIR/cts.db. "
        "Example: postgresql+psycopg://user@127.0.0.1:5432/cts",
    )
    database_connect_timeout_seconds: int = Field(
        default=5,
        ge=1,
        description="PostgreSQL: give up connecting after this many seconds (libpq counts 1 as "
        "2); a connect_timeout in CTS_DATABASE_URL wins.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 (url-safe) 32-byte key that encrypts credentials; "
        "default: $CTS_DATA_DIR/master.key, created on first start with mode 0600 "
        "(`cts vault rotate` replaces it).",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Sets the admin API token instead of generating one on first start.",
    )

    host: str = Field(default="127.0.0.1", description="Interface every listener binds to.")
    grpc_port: int = Field(default=50051, ge=0, le=65535)
    http_port: int = Field(
        default=8080, ge=0, le=65535, description="Envoy's HTTP/JSON + gRPC port."
    )
    webui_port: int = Field(default=8081, ge=0, le=65535)
    envoy_admin_port: int = Field(default=9901, ge=0, le=65535)
    tls_cert: Path | None = Field(
        default=None,
        description="PEM certificate (chain) that puts TLS on Envoy's listener (REST and gRPC) "
        "and the dashboard; needs CTS_TLS_KEY. `cts cert self-signed` makes a local pair.",
    )
    tls_key: Path | None = Field(
        default=None,
        description="Unencrypted PEM private key of CTS_TLS_CERT (mode 0600); needs CTS_TLS_CERT.",
    )
    metrics: bool = Field(
        default=True,
        description="Serve Prometheus metrics on CTS_METRICS_PORT and count every RPC; false: "
        "neither (the benchmark compares the two).",
    )
    metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        description="Prometheus metrics (/metrics) on CTS_HOST, without a token; 0: any free port.",
    )

    stream_heartbeat_seconds: float = Field(default=15.0, gt=0)
    stream_queue_size: int = Field(default=1024, ge=1, description="Per-subscriber buffer.")
    engine_stream_queue_size: int = Field(
        default=65536,
        ge=1,
        description="Per-subscriber buffer of the engine and position streams: a start-up wave "
        "of a thousand engines publishes tens of thousands of fills within seconds.",
    )
    stream_history_size: int = Field(default=4096, ge=1, description="Changes kept for resume.")
    stream_batch_interval_seconds: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="A watcher that asks for batches (max_batch > 1) gets at most one message "
        "per interval while changes keep coming; an idle stream sends a change at once.",
    )

    alert_test_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=120,
        description="How long TestChannel waits for a test alert's final delivery outcome.",
    )

    token_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a verified token is trusted without a lookup."
    )
    max_message_bytes: int = Field(default=1024 * 1024, ge=1024)
    shutdown_grace_seconds: float = Field(default=5.0, ge=0)
    db_threads: int = Field(default=4, ge=1, description="Worker threads for storage calls.")
    log_level: str = Field(default="INFO", description="debug, info, warning or error.")
    log_format: Literal["human", "json"] = Field(
        default="human", description="stdout: readable lines, or one JSON object per line."
    )
    log_retention_days: float = Field(default=14, gt=0, description="Stored log entries' age.")
    log_max_entries: int = Field(default=1_000_000, ge=1000, description="Stored log entries.")
    log_buffer_entries: int = Field(
        default=100_000,
        ge=100,
        description="Log entries waiting to be stored; beyond, debug entries are dropped first.",
    )

    # Abuse limits: refusals are RESOURCE_EXHAUSTED (HTTP 429) with a retry-after in seconds.
    rate_limit_per_second: float = Field(
        default=50, ge=0, description="Requests per second per token after its burst; 0: none."
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="Requests at once per token.")
    address_rate_limit_per_second: float = Field(
        default=100,
        ge=0,
        description="Requests per second per client address (with or without a token) after "
        "its burst; 0: none.",
    )
    address_rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests at once per client address."
    )
    max_streams_per_token: int = Field(
        default=50, ge=0, description="Open streams (Watch*, StreamLogs) per token; 0: no limit."
    )
    auth_failure_burst: int = Field(
        default=20,
        ge=1,
        description="Failed authentications per client address before its further attempts "
        "are refused (tokens it used successfully lately still pass).",
    )
    auth_failures_per_second: float = Field(
        default=1.0,
        ge=0,
        description="Failed authentications allowed per second per address after the burst; "
        "0: no slowdown.",
    )
    trusted_proxies: list[str] = Field(
        default=["127.0.0.1", "::1"],
        description="Addresses or networks (JSON list) whose x-forwarded-for names the client: "
        "Envoy's. Anyone able to connect from them can claim any client address.",
    )

    # Exchange access
    exchange_limits: dict[str, RateLimits] = Field(
        default_factory=dict,
        description="Per-exchange account limits overriding the defaults, as JSON: "
        '{"bybit": {"per_second": 10, "per_minute": 120, "concurrent": 5}}.',
    )
    exchange_timeout_seconds: float = Field(default=10.0, gt=0, description="Every exchange call.")
    exchange_max_retries: int = Field(default=5, ge=0, description="Retries after a 429.")
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_cooldown_seconds: float = Field(default=30.0, gt=0)
    health_checks: bool = Field(
        default=True, description="Check enabled connections periodically and when enabled."
    )
    health_check_interval_seconds: float = Field(default=300.0, gt=0)
    test_concurrency: int = Field(default=10, ge=1, description="Connection tests at once.")
    clock_drift_warning_ms: int = Field(default=1000, ge=0)
    balance_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        description="Read every enabled account's balance (with credentials) this often, the "
        "reads spread over the interval, and soon after every live fill; 0: never.",
    )
    balance_fill_delay_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long after a live fill its account's balance is read (later fills "
        "join that read).",
    )

    # Engines
    engines: bool = Field(
        default=True, description="Run engines (the coordinator); off in most tests."
    )
    engine_cycle_seconds: float = Field(default=1.0, gt=0, description="Realtime cycle.")
    engine_retry_seconds: float = Field(
        default=2.0,
        gt=0,
        description="First back-off of a failed engine (doubles, max 60 s or the circuit "
        "cool-down if shorter).",
    )
    engine_symbols: int = Field(default=20, ge=1, le=500, description="Symbols per engine.")
    engine_timeframe: str = Field(default="1m", description="Bars of the realtime cycle.")
    engine_history_bars: int = Field(default=200, ge=10, le=1000, description="Bars loaded.")
    engine_sets: str = Field(
        default="",
        description="Comma-separated parameter sets (entry/strategy, e.g. trend/trailing) every "
        "engine runs pseudo positions for; empty: all six.",
    )
    engine_slippage: Decimal = Field(
        default=Decimal("0.0005"), ge=0, lt=1, description="Pseudo fills' slippage (fraction)."
    )
    engine_stale_cycles: int = Field(
        default=3,
        ge=1,
        description="An engine without fresh prices for this many cycles is stale: it opens "
        "nothing, its exits wait for fresh prices, its connection's health is degraded.",
    )
    engine_status_cycles: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="An engine's running figures (cycle metrics, signal strengths, unrealised "
        "PnL) are published every this many cycles; fills, signal sides and state changes at once.",
    )
    engine_mark_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often open positions are re-marked on the stream and their state stored.",
    )

    # Alert delivery (webhook, Slack, Discord, Telegram)
    alert_delivery_attempts: int = Field(
        default=6,
        ge=1,
        description="Attempts per alert and channel, the first included; connection errors, "
        "timeouts, 429 and 5xx are retried, other answers are final.",
    )
    alert_delivery_timeout_seconds: float = Field(
        default=10.0, gt=0, description="One delivery request, answer included."
    )
    alert_retry_seconds: float = Field(
        default=1.0,
        gt=0,
        description="First wait before a retry (doubles each time, with jitter: a random "
        "half taken off).",
    )
    alert_retry_max_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Longest wait before a retry, also for a 429's Retry-After.",
    )
    alert_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Alerts waiting per channel; beyond, the oldest is dropped (a failed "
        "delivery).",
    )

    # Exchange simulator
    simulator_url: str | None = Field(
        default=None,
        description="Base URL of the exchange simulator that is_simulated connections use "
        "(`cts up` starts one and sets this).",
    )
    simulator_port: int = Field(default=8082, ge=0, le=65535)
    simulator_seed: int = Field(default=0)
    demo: bool = Field(
        default=True,
        description="`cts up` runs the simulator and creates the demo connection on it.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {item!r}") from None
        return value

    def abuse_limits(self) -> LimitsConfig:
        from server.access.limits import LimitsConfig, Rate

        return LimitsConfig(
            token_rate=Rate(self.rate_limit_per_second, self.rate_limit_burst),
            address_rate=Rate(self.address_rate_limit_per_second, self.address_rate_limit_burst),
            failed_auth=Rate(self.auth_failures_per_second, self.auth_failure_burst),
            streams_per_token=self.max_streams_per_token,
        )

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def tls(self) -> bool:
        """Both TLS files are set (``server.tls.tls_files`` checks them)."""
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def engine_stale_seconds(self) -> float:
        return self.engine_stale_cycles * self.engine_cycle_seconds

    def engine_plan(self) -> LoadPlan:
        """What every engine (and the dry run) loads."""
        from server.engine.loading import LoadPlan
        from server.engine.sets import SET_IDS, parse_sets

        chosen = [s.strip() for s in self.engine_sets.split(",") if s.strip()]
        return LoadPlan(
            symbols=self.engine_symbols,
            timeframe=self.engine_timeframe,
            bars=self.engine_history_bars,
            sets=parse_sets(chosen) if chosen else SET_IDS,
            slippage=self.engine_slippage,
        )

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_data_dir / 'cts.db'}"

    @property
    def grpc_target(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def admin_token_file(self) -> Path:
        return self.resolved_data_dir / "admin.token"

    def alert_delivery_policy(self) -> DeliveryPolicy:
        from server.alerts.delivery.dispatcher import DeliveryPolicy

        return DeliveryPolicy(
            max_attempts=self.alert_delivery_attempts,
            timeout_seconds=self.alert_delivery_timeout_seconds,
            first_backoff_seconds=self.alert_retry_seconds,
            max_backoff_seconds=max(self.alert_retry_max_seconds, self.alert_retry_seconds),
            queue_size=self.alert_queue_size,
        )

    def access_config(self) -> AccessConfig:
        from server.exchange.access import AccessConfig

        return AccessConfig(
            limits=self.exchange_limits,
            timeout_seconds=self.exchange_timeout_seconds,
            max_retries=self.exchange_max_retries,
            breaker_threshold=self.circuit_failure_threshold,
            breaker_cooldown_seconds=self.circuit_cooldown_seconds,
            simulator_url=self.simulator_url,
        )
