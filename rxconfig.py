"""Reflex configuration. Everything configurable comes from sayzhong.settings (environment / .env)."""

import reflex as rx

from sayzhong.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="sayzhong",
    db_url=_settings.effective_database_url,
    redis_url=_settings.redis_url or None,
    api_url=_settings.backend_url,
    deploy_url=_settings.app_url,
    # Reflex defaults to "*" with credentials; only our own front end may call the backend.
    cors_allowed_origins=[_settings.app_url.rstrip("/")],
    telemetry_enabled=False,
    show_built_with_reflex=False,
    trusted_proxy_hops=_settings.trusted_proxy_hops,
    state_manager_mode="redis" if _settings.redis_url else "memory",
    plugins=[
        rx.plugins.SitemapPlugin(),
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", gray_color="slate", radius="large", has_background=True)
        ),
    ],
)
