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

    # --- sessions and sign-in ---
    session_cookie_name: str = "sz_session"
    session_idle_timeout_minutes: int = 60 * 24 * 3
    session_absolute_timeout_hours: int = 24 * 30
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_throttle_window_minutes: int = 15
    password_reset_ttl_minutes: int = 30

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
        if self.env == "prod":
            if self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least 32 characters when ENV=prod"
                )
            if bool(self.azure_speech_key) != bool(self.azure_speech_region or self.azure_speech_host):
                raise ValueError("AZURE_SPEECH_KEY needs AZURE_SPEECH_REGION (or AZURE_SPEECH_HOST)")
            if not self.smtp_host:
                # The outbox holds working password-reset links; in production they must reach the user.
                raise ValueError(
                    "ENV=prod needs a real mail server: set SMTP_HOST (and SMTP_USERNAME / SMTP_PASSWORD). "
                    "Without it, password-reset e-mails would stay in a local outbox and never reach users."
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()


__all__ = ["REPO_ROOT", "Field", "Settings", "get_settings", "reset_settings_cache"]
