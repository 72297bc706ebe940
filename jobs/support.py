"""Support SLAs: e-mail warnings and breaches (each once per ticket and target)."""

from __future__ import annotations

import logging

from sayzhong.db import session_scope
from sayzhong.support import service as support

log = logging.getLogger(__name__)


def run_sla_check() -> list[str]:
    with session_scope() as session:
        sent = support.check_sla(session=session)
    if sent:
        log.info("SLA warnings sent: %s", ", ".join(sent))
    return sent
