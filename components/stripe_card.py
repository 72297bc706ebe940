"""Reflex wrapper for the Stripe.js card entry (assets/components/StripeCard.jsx).

The billing state drives it with plain vars instead of `rx.call_script` (whose string the browser
would run through `eval`, which the Content-Security-Policy forbids): a new `card_nonce` mounts a
fresh card Element in the component's own div; a new `confirm_nonce` (with `confirm_secret` and
`confirm_kind`, "setup" or "payment") confirms that intent with Stripe.js, and the outcome comes back
through `on_setup_result` / `on_payment_result` as `{"ok": True}` or `{"error": "plain words"}`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from components.props import Handler, VarOr


def _result(result: rx.Var[dict[str, Any]]) -> list[rx.Var[Any]]:
    return [result]


# `rx.EventHandler[spec]` is how Reflex declares a custom component's event arguments; its typing is
# written for pyright, hence the ignores (as in components/recorder.py).
class StripeCard(rx.Component):
    library = "$/public/components/StripeCard.jsx"
    tag = "StripeCard"

    publishable_key: rx.Var[str]
    js_url: rx.Var[str]
    card_nonce: rx.Var[int]
    confirm_secret: rx.Var[str]
    confirm_kind: rx.Var[str]
    confirm_nonce: rx.Var[int]

    on_setup_result: rx.EventHandler[_result]  # type: ignore[type-arg, valid-type]
    on_payment_result: rx.EventHandler[_result]  # type: ignore[type-arg, valid-type]


def stripe_card(
    *,
    card_id: str,
    label: str,
    publishable_key: VarOr[str],
    js_url: VarOr[str],
    card_nonce: VarOr[int],
    confirm_secret: VarOr[str],
    confirm_kind: VarOr[str],
    confirm_nonce: VarOr[int],
    on_setup_result: Handler,
    on_payment_result: Handler,
    **style: Any,
) -> rx.Component:
    """The card form's field group (`card_id`, labelled `label`) with the Stripe.js plumbing."""
    return StripeCard.create(
        id=card_id,
        custom_attrs={"role": "group", "aria-label": label},
        publishable_key=publishable_key,
        js_url=js_url,
        card_nonce=card_nonce,
        confirm_secret=confirm_secret,
        confirm_kind=confirm_kind,
        confirm_nonce=confirm_nonce,
        on_setup_result=on_setup_result,
        on_payment_result=on_payment_result,
        **style,
    )
