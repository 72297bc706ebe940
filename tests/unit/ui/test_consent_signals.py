"""The consent banner talks to the browser through the ConsentSignals component, never `rx.call_script`
(Reflex runs that through `eval`, which the Content-Security-Policy blocks)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from components.consent import mounted_consent_banner
from sayzhong import routes
from sayzhong.settings import get_settings
from state.privacy import SIGNALS_ID, page_view_beacon

ASSET = Path(__file__).resolve().parents[3] / "assets" / "components" / "ConsentSignals.jsx"


def _args(spec) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {name._js_expr: value._var_value for name, value in spec.args}


def test_the_beacon_is_a_set_value_on_the_rendered_component() -> None:
    spec = page_view_beacon("/legal/privacy")
    assert spec.handler.fn.__qualname__ == "_set_value"
    args = _args(spec)
    rendered = str(mounted_consent_banner())
    # The ref the event targets is the one the banner gives the component.
    assert f"ref:{args['ref']}" in rendered
    assert f'jsx(ConsentSignals,{{id:"{SIGNALS_ID}"' in rendered
    request = json.loads(str(args["value"]))
    assert request == {
        "url": get_settings().backend_url.rstrip("/") + routes.ANALYTICS_CAPTURE,
        "path": "/legal/privacy",
    }


def test_the_gpc_signal_goes_to_evaluate_without_scripts() -> None:
    rendered = str(mounted_consent_banner())
    on_gpc = re.search(
        r"onGpc:\(\((\w+)\) => \(addEvents\(\[\(ReflexEvent\(\"([^\"]+)\", \(\{ \[\"(\w+)\"\] : (\w+)",
        rendered,
    )
    assert on_gpc, rendered
    param, handler, arg, value = on_gpc.groups()
    assert handler.endswith("consent_state.evaluate") and arg == "gpc_signal" and value == param
    assert "_call_script" not in rendered and "_call_function" not in rendered


def test_the_component_evaluates_no_strings() -> None:
    source = ASSET.read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("//"))
    assert "navigator.globalPrivacyControl === true" in code
    assert not re.search(
        r"\beval\b|new\s+Function|setTimeout\(\s*['\"`]|innerHTML|createElement\(\s*['\"]script", code
    )
