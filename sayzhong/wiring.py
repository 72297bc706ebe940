"""The composition root for adapters: the one place that reads settings and picks real vs offline.

Every port a feature depends on (``<feature>/ports.py``) gets its adapter here: the offline one from
``<feature>/offline.py`` by default, the vendor one from ``sayzhong/integrations/`` when settings
ask for it. Services take the adapter as a keyword argument and fall back to these functions when
the caller passes none, so tests hand in fakes and production code never chooses for itself.
Adapters are built per call from the settings given; nothing here keeps module-level state.
Vendor modules are imported inside the functions so an unconfigured install never loads their SDKs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

    from sayzhong.accounts.ports import OidcProvider
    from sayzhong.analytics.ports import AnalyticsSink
    from sayzhong.api.operations import ApiLimits
    from sayzhong.billing.ports import PaymentsGateway
    from sayzhong.curriculum.ports import ReferenceVoice
    from sayzhong.experiments.ports import VariantSource
    from sayzhong.guard_cache import GenerationStore
    from sayzhong.notifications.ports import Mailer
    from sayzhong.pronunciation.ports import PronunciationAssessor
    from sayzhong.settings import Settings
    from sayzhong.support.ports import HelpSearchIndex


log = logging.getLogger(__name__)


def azure_configured(settings: Settings) -> bool:
    """Azure Speech is usable: a key and somewhere to send it (a region or an explicit host)."""
    return bool(settings.azure_speech_key and (settings.azure_speech_region or settings.azure_speech_host))


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def oidc_configured(settings: Settings) -> bool:
    """The "Sign in with …" button shows only when an issuer and a client id are both set."""
    return bool(settings.oidc_issuer and settings.oidc_client_id)


def get_assessor(settings: Settings) -> PronunciationAssessor:
    """Azure Speech when configured, else the offline tone engine (which runs in any case: the
    service merges Azure's phoneme scores with the offline tone verdicts)."""
    if azure_configured(settings):
        from sayzhong.integrations.azure_speech import AzureSpeechAssessor

        azure = AzureSpeechAssessor(
            key=settings.azure_speech_key,
            region=settings.azure_speech_region,
            host=settings.azure_speech_host,
            timeout_s=settings.azure_timeout_s,
        )
        if settings.azure_daily_budget_seconds <= 0:
            return azure
        from sayzhong.db import session_scope
        from sayzhong.pronunciation.budget import BudgetedAssessor

        return BudgetedAssessor(
            azure, budget_seconds=settings.azure_daily_budget_seconds, session_factory=session_scope
        )
    from sayzhong.pronunciation.offline import OfflineAssessor

    return OfflineAssessor()


def get_reference_voice(settings: Settings) -> ReferenceVoice:
    """Azure's neural voice when Azure is configured (espeak-ng per failed render), else espeak-ng."""
    from sayzhong.curriculum.offline import EspeakReferenceVoice

    offline = EspeakReferenceVoice()
    if azure_configured(settings):
        from sayzhong.integrations.azure_tts import AzureReferenceVoice

        return AzureReferenceVoice.from_settings(settings, fallback=offline)
    return offline


def get_mailer(settings: Settings, *, session: Session) -> Mailer:
    """SMTP when SMTP_HOST is set, else the outbox table written in `session`'s unit of work.

    Production settings refuse to load without SMTP, so the outbox is a development and test tool.
    """
    if smtp_configured(settings):
        from sayzhong.integrations.smtp_mailer import SmtpMailer

        return SmtpMailer.from_settings(settings)
    from sayzhong.notifications.offline import OutboxMailer

    return OutboxMailer(session, mail_from=settings.mail_from)


def get_oidc_provider(settings: Settings) -> OidcProvider | None:
    """The configured OpenID Connect provider, or None when sign-in through a provider is off."""
    if not oidc_configured(settings):
        return None
    from sayzhong.integrations.oidc_client import AuthlibOidcProvider

    return AuthlibOidcProvider.from_settings(settings)


def posthog_configured(settings: Settings) -> bool:
    return bool(settings.posthog_api_key and settings.posthog_host)


def get_analytics_sink(settings: Settings, *, session: Session) -> AnalyticsSink:
    """Where product events go: the local `analytics_event` table (what the funnel pages read), and
    also PostHog when POSTHOG_API_KEY and POSTHOG_HOST are set (issue 14).

    Whatever the sink, it is wrapped in the consent gate (issue 11): an event is passed on only for
    a visitor or user whose latest cookie decision accepts the event's category.
    """
    from sayzhong.analytics.offline import DatabaseAnalyticsSink
    from sayzhong.privacy.consent import ConsentGatedSink

    local = DatabaseAnalyticsSink(session)
    if posthog_configured(settings):
        from sayzhong.analytics.offline import FanOutSink
        from sayzhong.integrations.posthog_sink import PostHogSink

        return ConsentGatedSink(FanOutSink(local, PostHogSink.from_settings(settings)), session=session)
    return ConsentGatedSink(local, session=session)


def get_api_limits(settings: Settings) -> ApiLimits:
    """The JSON API's request budgets: kept in Redis when REDIS_URL is set, so the limit holds across
    every web worker process; otherwise in this process, which is right only with one worker
    (production settings refuse several workers without Redis; elsewhere this warns)."""
    from sayzhong.api.operations import ApiLimits

    limits = ApiLimits.default()
    if not settings.redis_url:
        if settings.granian_workers > 1:
            log.warning(
                "GRANIAN_WORKERS=%d without REDIS_URL: each worker keeps its own API rate limits, "
                "so clients get %d times the intended budget. Set REDIS_URL to share them.",
                settings.granian_workers,
                settings.granian_workers,
            )
        return limits
    from sayzhong.integrations.redis_ratelimit import RedisTokenBucketLimiter, redis_client

    client = redis_client(settings.redis_url)
    shared = RedisTokenBucketLimiter.like
    return ApiLimits(
        per_token=shared(limits.per_token, client=client, name="api-token"),
        auth_failures=shared(limits.auth_failures, client=client, name="api-auth-failure"),
    )


def get_guard_generations(settings: Settings) -> GenerationStore | None:
    """The page-load guard cache's generation counters (sayzhong/guard_cache.py): in Redis, shared by
    every process that writes, when REDIS_URL is set and GUARD_CACHE_SECONDS > 0; otherwise None
    (one process and no shared store: every page load reads the database)."""
    if not settings.redis_url or settings.guard_cache_seconds <= 0:
        return None
    from sayzhong.integrations.redis_generations import RedisGenerations

    return RedisGenerations(settings.redis_url)


def stripe_configured(settings: Settings) -> bool:
    """Payments run through Stripe only with both keys; otherwise billing explains it is not set up."""
    return bool(settings.stripe_secret_key and settings.stripe_publishable_key)


def get_payments(settings: Settings) -> PaymentsGateway:
    """Stripe (or a Stripe-compatible server at STRIPE_API_BASE) when configured, else the offline
    adapter: payments unavailable, Free limits and staff grants still apply."""
    if stripe_configured(settings):
        from sayzhong.integrations.stripe_payments import StripePayments

        return StripePayments.from_settings(settings)
    from sayzhong.billing.offline import PaymentsNotConfigured

    return PaymentsNotConfigured()


def get_help_search(settings: Settings) -> HelpSearchIndex:
    """Help-centre search: PostgreSQL full-text search on PostgreSQL, else SQLite FTS5 (issue 13)."""
    if settings.effective_database_url.startswith("postgresql"):
        from sayzhong.integrations.postgres_search import PostgresHelpSearch

        return PostgresHelpSearch()
    from sayzhong.support.offline import SqliteFtsHelpSearch

    return SqliteFtsHelpSearch()


# --- experiments (issue 14) ----------------------------------------------------------------------


def posthog_flags_configured(settings: Settings) -> bool:
    """PostHog serves experiment variants when asked to and configured: project key, host and a
    personal API key (local evaluation downloads the flag definitions; nothing is asked per view).
    The PostHog keys are the product-analytics settings (read by name: they live in that block)."""
    return settings.experiment_variant_source == "posthog" and all(
        getattr(settings, name, "")
        for name in ("posthog_api_key", "posthog_host", "posthog_personal_api_key")
    )


def get_variant_source(settings: Settings) -> VariantSource:
    """Who picks an experiment's variant: PostHog feature flags (local evaluation) when configured,
    else local SHA-256 bucketing. Either way the service falls back to local bucketing for a flag
    PostHog does not know or answers with a variant the experiment does not define."""
    from sayzhong.experiments.offline import HashBucketing

    if posthog_flags_configured(settings):
        from sayzhong.integrations.posthog_flags import shared_posthog_flags

        return shared_posthog_flags(
            project_key=str(getattr(settings, "posthog_api_key", "")),
            personal_key=str(getattr(settings, "posthog_personal_api_key", "")),
            host=str(getattr(settings, "posthog_host", "")),
        )
    return HashBucketing()
