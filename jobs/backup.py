"""Nightly backup: database + recordings, encrypted off-site copy when configured, keep 14."""

from __future__ import annotations

import logging

from sayzhong.ops import backup
from sayzhong.settings import get_settings

log = logging.getLogger(__name__)
KEEP = 14


def run_backup() -> dict[str, object]:
    settings = get_settings()
    made = backup.create_backup(settings)
    result: dict[str, object] = {"path": str(made.path), "bytes": made.manifest["total_bytes"]}
    if settings.backup_offsite_dir:
        result["offsite"] = str(backup.copy_offsite(made, settings))
    result["pruned"] = len(backup.prune_backups(made.path.parent, keep=KEEP))
    log.info("backup: %s", result)
    return result
