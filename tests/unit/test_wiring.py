"""`sayzhong.wiring` is the one place adapters are chosen from settings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlmodel import Session

from sayzhong import wiring
from sayzhong.analytics.offline import DatabaseAnalyticsSink
from sayzhong.curriculum.offline import EspeakReferenceVoice
from sayzhong.integrations.azure_tts import AzureReferenceVoice
from sayzhong.integrations.oidc_client import AuthlibOidcProvider
from sayzhong.integrations.smtp_mailer import SmtpMailer
from sayzhong.notifications.offline import OutboxMailer
from sayzhong.settings import REPO_ROOT, Settings


@pytest.mark.parametrize(
    ("key", "region", "host", "expected"),
    [
        ("", "", "", False),
        ("k", "", "", False),  # a key alone has nowhere to go
        ("", "westeurope", "", False),
        ("k", "westeurope", "", True),
        ("k", "", "ws://127.0.0.1:9", True),
    ],
)
def test_azure_needs_a_key_and_a_region_or_host(
    settings: Settings, key: str, region: str, host: str, expected: bool
) -> None:
    configured = settings.model_copy(
        update={"azure_speech_key": key, "azure_speech_region": region, "azure_speech_host": host}
    )
    assert wiring.azure_configured(configured) is expected


def test_reference_voice_follows_the_shared_azure_rule(settings: Settings) -> None:
    key_only = settings.model_copy(update={"azure_speech_key": "k"})
    assert isinstance(wiring.get_reference_voice(key_only), EspeakReferenceVoice)
    both = settings.model_copy(update={"azure_speech_key": "k", "azure_speech_region": "westeurope"})
    assert isinstance(wiring.get_reference_voice(both), AzureReferenceVoice)


def test_assessor_is_chosen_through_wiring(settings: Settings) -> None:
    assert wiring.get_assessor(settings).name == "offline"
    both = settings.model_copy(update={"azure_speech_key": "k", "azure_speech_region": "westeurope"})
    assert wiring.get_assessor(both).name == "azure"


def test_mailer_is_the_outbox_unless_smtp_is_set(settings: Settings, db_session: Session) -> None:
    assert isinstance(wiring.get_mailer(settings, session=db_session), OutboxMailer)
    smtp = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    assert isinstance(wiring.get_mailer(smtp, session=db_session), SmtpMailer)


def test_oidc_provider_needs_issuer_and_client_id(settings: Settings) -> None:
    assert wiring.get_oidc_provider(settings) is None
    issuer_only = settings.model_copy(update={"oidc_issuer": "http://127.0.0.1:9/"})
    assert wiring.get_oidc_provider(issuer_only) is None
    both = issuer_only.model_copy(update={"oidc_client_id": "sayzhong"})
    assert isinstance(wiring.get_oidc_provider(both), AuthlibOidcProvider)


def test_analytics_sink_is_the_local_table_by_default(settings: Settings, db_session: Session) -> None:
    from sayzhong.privacy.consent import ConsentGatedSink

    sink = wiring.get_analytics_sink(settings, session=db_session)
    # Whatever the sink, it sits behind the consent gate (issue 11).
    assert isinstance(sink, ConsentGatedSink)
    assert isinstance(sink.inner, DatabaseAnalyticsSink)


def _global_statements(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(REPO_ROOT)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Global)
    ]


def test_no_feature_keeps_a_mutable_adapter_global() -> None:
    """Adapters are passed in or built by wiring, never swapped through a `global` statement."""
    offenders = [
        hit for path in sorted((REPO_ROOT / "sayzhong").rglob("*.py")) for hit in _global_statements(path)
    ]
    assert offenders == []


def test_vendor_adapters_are_constructed_only_in_wiring() -> None:
    """`from sayzhong.integrations…` outside integrations/ and wiring means a feature picks for itself."""
    offenders = []
    for path in sorted((REPO_ROOT / "sayzhong").rglob("*.py")):
        rel = path.relative_to(REPO_ROOT / "sayzhong")
        if rel.parts[0] == "integrations" or rel.name == "wiring.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sayzhong.integrations"):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []
