"""Practice reminders, streak-at-risk reminders and the weekly summary (issue 14), every 5 minutes."""

from __future__ import annotations

from sayzhong.notifications import reminders
from sayzhong.ops.jobs import run_recorded


def run_reminders() -> object:
    return run_recorded("reminders", lambda: reminders.run_reminders())
