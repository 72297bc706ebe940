"""PostHog feature flags serving experiment variants: the real `posthog` library against a loopback
server that serves the flag definitions endpoint, chosen through `sayzhong.wiring`."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session

from sayzhong import wiring
from sayzhong.experiments import service as exp
from sayzhong.experiments.offline import HashBucketing
from sayzhong.integrations import posthog_flags
from sayzhong.privacy import consent
from sayzhong.settings import Settings
from tests.factories import UserFactory

VARIANTS = [("control", 50), ("fix_tones", 50)]


def _definitions(fix_tones_share: int) -> dict:
    return {
        "flags": [
            {
                "id": 1,
                "key": "landing_headline",
                "active": True,
                "filters": {
                    "groups": [{"properties": [], "rollout_percentage": 100}],
                    "multivariate": {
                        "variants": [
                            {"key": "control", "rollout_percentage": 100 - fix_tones_share},
                            {"key": "fix_tones", "rollout_percentage": fix_tones_share},
                        ]
                    },
                },
            }
        ],
        "group_type_mapping": {},
        "cohorts": {},
    }


@pytest.fixture
def flag_server() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    seen: list[tuple[str, str | None]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            body = json.dumps(_definitions(100)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    posthog_flags.close_shared()
    server.shutdown()
    server.server_close()


def test_local_bucketing_is_the_default(settings: Settings) -> None:
    assert isinstance(wiring.get_variant_source(settings), HashBucketing)
    # PostHog keys alone do not switch the variant source: marketing must ask for it.
    keys = {
        "posthog_api_key": "phc_x",
        "posthog_host": "http://127.0.0.1:9",
        "posthog_personal_api_key": "phx",
    }
    assert isinstance(wiring.get_variant_source(settings.model_copy(update=keys)), HashBucketing)
    asked = settings.model_copy(update={"experiment_variant_source": "posthog"})
    assert isinstance(wiring.get_variant_source(asked), HashBucketing)  # asked, but no keys


def test_posthog_flags_serve_the_variant_through_wiring(
    settings: Settings, db_session: Session, make_user: UserFactory, flag_server
) -> None:
    url, seen = flag_server
    configured = settings.model_copy(
        update={
            "experiment_variant_source": "posthog",
            "posthog_api_key": "phc_project",
            "posthog_host": url,
            "posthog_personal_api_key": "phx_personal",
        }
    )
    source = wiring.get_variant_source(configured)
    assert source.name == "posthog"
    assert wiring.get_variant_source(configured) is source  # one polling client per process
    assert seen == [("/flags/definitions?token=phc_project&send_cohorts", "Bearer phx_personal")]
    # The flag sends everyone to fix_tones; local bucketing would split them.
    units = [f"visitor-{i:012d}" for i in range(40)]
    assert {source.variant(key="landing_headline", unit_id=u, variants=VARIANTS) for u in units} == {
        "fix_tones"
    }
    local = {HashBucketing().variant(key="landing_headline", unit_id=u, variants=VARIANTS) for u in units}
    assert local == {"control", "fix_tones"}
    # A flag PostHog does not have: None, and the service buckets locally.
    assert source.variant(key="onboarding_length", unit_id=units[0], variants=VARIANTS) is None

    marketer = make_user(role="marketing")
    draft = exp.ExperimentDraft(
        key="landing_headline",
        name="Landing headline",
        variants=(exp.VariantSpec("control", 50), exp.VariantSpec("fix_tones", 50)),
        audience="new_visitors",
        primary_metric="signed_up",
    )
    exp.save_experiment(session=db_session, actor=marketer, actor_id=marketer.id, draft=draft)
    exp.set_status(
        session=db_session, actor=marketer, actor_id=marketer.id, key="landing_headline", status="running"
    )
    for unit in units[:10]:
        consent.record_consent(
            session=db_session,
            visitor_id=unit,
            user_id=None,
            analytics=True,
            marketing=False,
            source="banner",
        )
        who = exp.Visitor(visitor_id=unit, user_id=None)
        assert (
            exp.assign(session=db_session, key="landing_headline", who=who, source=source).variant
            == "fix_tones"
        )
