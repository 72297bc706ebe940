"""Operator commands: `python -m sayzhong billing sync-catalog | reconcile | process-webhooks |
requeue-failed`."""

from __future__ import annotations

import argparse

from sayzhong.db import session_scope
from sayzhong.errors import SayZhongError


def _sync_catalog(_args: argparse.Namespace) -> int:
    from sayzhong.billing import service

    try:
        for line in service.sync_catalog():
            print(line)
    except SayZhongError as exc:
        print(f"billing sync-catalog: {exc.user_message}")
        return 1
    return 0


def _reconcile(_args: argparse.Namespace) -> int:
    from sayzhong.billing import webhooks

    with session_scope() as session:
        findings = webhooks.reconcile(session=session)
    for f in findings:
        print(f"repaired {f.stripe_subscription_id} {f.field}: {f.local_value} -> {f.stripe_value}")
    print(f"billing reconcile: {len(findings)} difference(s) repaired")
    return 0


def _process(_args: argparse.Namespace) -> int:
    from sayzhong.billing import webhooks

    result = webhooks.process_due_events()
    print(f"billing webhooks: {result.handled} handled, {result.retried} to retry, {result.failed} failed")
    return 0


def _requeue(_args: argparse.Namespace) -> int:
    from sayzhong.billing import webhooks

    with session_scope() as session:
        count = webhooks.requeue_failed(session=session)
    print(f"billing webhooks: {count} failed event(s) put back in the queue")
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    billing = sub.add_parser("billing", help="payments: catalogue sync, reconciler, webhook queue")
    commands = billing.add_subparsers(dest="billing_command", required=True, metavar="ACTION")
    commands.add_parser(
        "sync-catalog", help="create the repo's products, plans and coupons in Stripe"
    ).set_defaults(handler=_sync_catalog)
    commands.add_parser(
        "reconcile", help="compare local subscriptions with Stripe and repair drift"
    ).set_defaults(handler=_reconcile)
    commands.add_parser("process-webhooks", help="handle stored webhook events that are due").set_defaults(
        handler=_process
    )
    commands.add_parser(
        "requeue-failed", help="put webhook events that ran out of retries back in the queue"
    ).set_defaults(handler=_requeue)
