"""Application settings: one pydantic-settings class, read lazily through `get_settings()`.

Every field can be set from the environment (or a `.env` file) under its upper-case name.
Defaults are the embedded, offline configuration: SQLite, offline scorer, local outbox.
Production mode (`ENV=prod`) refuses default secrets and the local e-mail outbox.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-insecure-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- runtime ---
    env: Literal["dev", "test", "prod"] = "dev"
    app_url: str = "http://localhost:3000"
    """Public origin of the web app; CORS and e-mailed links use it."""
    api_url: str = ""
    """Backend origin (dev mode serves custom routes on :8000). Empty means same as app_url."""
    data_dir: Path = REPO_ROOT / "var"
    """Writable folder for the SQLite file, the e-mail outbox, uploaded audio and caches."""
    secret_key: str = DEFAULT_SECRET
    """Signs tokens. Must be changed (>= 32 chars) in production."""
    log_level: str = "INFO"
    trusted_proxy_hops: int = 0
    """Number of reverse proxies in front of the app whose X-Forwarded-For may be trusted."""

    # --- database ---
    database_url: str = ""
    """SQLAlchemy URL. Empty means SQLite at DATA_DIR/sayzhong.db; postgresql://… for PostgreSQL."""
    redis_url: str = ""
    """redis://… : Reflex state and the API rate limits shared by every web worker process."""
    granian_workers: int = 0
    """Web worker processes (Reflex hands GRANIAN_WORKERS to granian). 0: Reflex decides — one
    without Redis, 2 x cores + 1 with it. More than one needs REDIS_URL."""
    scoring_processes: int = 0
    """Score takes in this many worker processes per web worker (issue 16: scoring is CPU-bound
    Python and held the GIL against every other request). 0: in the scoring threads themselves."""
    scoring_threads: int = Field(default=2, ge=1, le=64)
    """Takes scored at once per web worker; more wait their turn in order (none is refused). Scoring
    has threads of its own, so a burst of uploads never takes the threads the pages' event handlers
    use for their database work, and a few takes at a time under the GIL finish sooner than many."""

    # --- sessions and sign-in ---
    session_cookie_name: str = "sz_session"
    session_idle_timeout_minutes: int = 60 * 24 * 3
    session_absolute_timeout_hours: int = 24 * 30
    guard_cache_seconds: int = Field(default=120, ge=0, le=600)
    """With REDIS_URL: how long a web worker may answer a tab's page-load guard from memory
    (sayzhong/guard_cache.py). Every write to the learner's rows ends it at once; this bounds what
    changes with the clock alone (a review card falling due, a local day ending). 0: always read."""
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_throttle_window_minutes: int = 15
    password_reset_ttl_minutes: int = 30

    # --- e-mail verification and two-factor sign-in (issue 9) ---
    email_verification_ttl_hours: int = 48
    """Lifetime of an e-mailed verification link (single use)."""
    email_verification_resend_interval_s: int = 60
    """Minimum wait between two verification e-mails to the same account."""

    # --- OpenID Connect ("Sign in with …") ---
    oidc_issuer: str = ""
    """Issuer URL; empty disables the button."""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_display_name: str = "SSO"

    # --- e-mail ---
    smtp_host: str = ""
    """Empty: e-mails are written to the local outbox (DATA_DIR/outbox and the staff outbox page)."""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "SayZhong <hello@sayzhong.app>"
    # Reminders and other non-transactional mail (issue 14; see docs/operations.md "E-mail reminders").
    mail_unsubscribe_address: str = ""
    """The mailto: half of List-Unsubscribe; empty means unsubscribe@<the domain of MAIL_FROM>."""
    email_events_secret: str = ""
    """Shared secret of the bounce/complaint webhook (POST /email/events); empty turns it off."""

    # --- pronunciation ---
    azure_speech_key: str = ""
    """Empty: offline engine only."""
    azure_speech_region: str = ""
    azure_speech_host: str = ""
    """Override endpoint (e.g. ws://127.0.0.1:PORT for tests)."""
    azure_timeout_s: float = 4.0
    max_audio_bytes: int = 5 * 1024 * 1024
    max_audio_seconds: float = 30.0

    # --- support centre (issue 13) ---
    support_timezone: str = "UTC"
    """Time zone of the support team's business hours (Mon–Fri 09:00–17:00), which SLAs count."""
    # --- business intelligence (issue 15; see docs/bi.md) ---
    bi_timezone: str = "UTC"
    """Reporting time zone: the calendar day a take, sign-up or payment counts on in the BI aggregates."""
    # --- billing (issue 12; see docs/billing.md) ---
    stripe_secret_key: str = ""
    """Empty: payments are not configured — everyone is on Free (daily limit) unless staff grant Plus."""
    stripe_publishable_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    """Empty: api.stripe.com. Tests point it at a local `localstripe` server."""
    stripe_js_url: str = "https://js.stripe.com/v3/"
    free_daily_scored_takes: int = Field(default=20, ge=1)
    free_unit_count: int = Field(default=3, ge=0)
    # --- experiments (issue 14; see docs/experiments.md) ---
    experiment_variant_source: Literal["local", "posthog"] = "local"
    """"posthog": PostHog feature flags (local evaluation) serve experiment variants, using
    POSTHOG_API_KEY, POSTHOG_HOST and POSTHOG_PERSONAL_API_KEY; "local": SHA-256 bucketing."""
    # --- operations (issue 16): metrics, traces, logs, backups ---
    log_format: Literal["json", "text"] = "json"
    """json: one JSON object per line with trace id and request id (what log shippers read)."""
    metrics_token: str = ""
    """Bearer token for GET /metrics. Empty: only loopback callers, and never when ENV=prod."""
    jobs_metrics_port: int = 0
    """The jobs process serves its own /metrics on this port (0: off); bind it to a private network."""
    otel_exporter_otlp_endpoint: str = ""
    """OTLP/HTTP collector base URL (e.g. http://collector:4318); empty keeps traces in-process only."""
    otel_service_name: str = "sayzhong"
    azure_daily_budget_seconds: float = 0.0
    """Audio seconds a UTC day may send to Azure Speech (all replicas together); 0 = no limit."""
    backup_dir: str = ""
    """Where `python -m sayzhong backup create` writes backups. Empty: DATA_DIR/backups."""
    backup_encryption_key: str = ""
    """Passphrase for the encrypted off-site copy (AES-256-GCM); required for `--offsite`."""
    backup_offsite_dir: str = ""
    """A mounted off-site target (e.g. an Azure Files share) that receives encrypted copies."""
    # --- referrals and share cards (issue 14) ---
    referral_reward_days: int = Field(default=7, ge=1, le=90)
    """Days of Plus each side gets once the referred learner's first take is scored."""
    referral_monthly_cap: int = Field(default=10, ge=0)
    """Rewardable referrals per referrer in any 30 days; more are recorded as refused."""
    share_font_path: str = ""
    """A CJK font (TTF/OTF/TTC) for share images. Empty: look for Noto Sans CJK / WenQuanYi."""

    # --- product analytics (issue 14; see docs/marketing.md) ---
    posthog_api_key: str = ""
    """PostHog project API key; with POSTHOG_HOST, events go to PostHog instead of the local table."""
    posthog_host: str = ""
    """PostHog ingestion origin, e.g. https://eu.i.posthog.com (tests: a local capture server)."""
    posthog_ui_host: str = ""
    """Where staff open insights, e.g. https://eu.posthog.com. Empty: POSTHOG_HOST."""
    posthog_project_id: str = ""
    posthog_personal_api_key: str = ""
    """Scope person:write; lets account erasure delete the PostHog person and their events."""
    posthog_max_queue_size: int = Field(default=10_000, ge=10)
    """Events waiting for PostHog per process; beyond it events are dropped and counted."""
    marketing_tag_hosts: str = ""
    """Comma-separated https hosts marketing tags may load scripts from (and the CSP allows)."""

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url[len("postgres://") :]
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://") :]
            return url
        return f"sqlite:///{self.data_dir / 'sayzhong.db'}"

    @property
    def is_prod(self) -> bool:
        return self.env == "prod"

    @property
    def backend_url(self) -> str:
        return self.api_url or self.app_url

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.guard_cache_seconds * 2 > self.session_idle_timeout_minutes * 60:
            # A remembered page-load guard slides the session's last-seen time only when it ends.
            raise ValueError("GUARD_CACHE_SECONDS must be at most half of SESSION_IDLE_TIMEOUT_MINUTES")
        if self.env == "prod":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters when ENV=prod"
                )
            if bool(self.azure_speech_key) != bool(self.azure_speech_region or self.azure_speech_host):
                raise ValueError("AZURE_SPEECH_KEY needs AZURE_SPEECH_REGION (or AZURE_SPEECH_HOST)")
            if self.granian_workers > 1 and not self.redis_url:
                # Each worker would hold its own state and its own rate-limit budgets.
                raise ValueError(
                    f"GRANIAN_WORKERS={self.granian_workers} starts {self.granian_workers} web worker "
                    "processes, but REDIS_URL is not set: each worker would keep its own sign-in state "
                    "and its own API rate limits, so every limit would be "
                    f"{self.granian_workers} times too generous. Set REDIS_URL, or GRANIAN_WORKERS=1."
                )
            if not self.smtp_host:
                # The outbox holds working password-reset links; in production they must reach the user.
                raise ValueError(
                    "ENV=prod needs a real mail server: set SMTP_HOST (and SMTP_USERNAME / SMTP_PASSWORD). "
                    "Without it, password-reset e-mails would stay in a local outbox and never reach users."
                )
            if bool(self.posthog_api_key) != bool(self.posthog_host):
                raise ValueError("POSTHOG_API_KEY and POSTHOG_HOST go together (issue 14: PostHog analytics)")
            if self.stripe_secret_key and not self.stripe_webhook_secret:
                raise ValueError(
                    "STRIPE_SECRET_KEY needs STRIPE_WEBHOOK_SECRET (webhooks are how payments land)"
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()


__all__ = ["REPO_ROOT", "Field", "Settings", "get_settings", "reset_settings_cache"]
