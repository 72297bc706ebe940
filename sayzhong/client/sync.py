"""`sync`: upload the takes queued while offline, in order, each with its idempotency key."""

from __future__ import annotations

from typing import Any

from sayzhong.client.api import (
    ApiRequestError,
    AuthProblemError,
    ClientError,
    FileTooLargeError,
    ServerUnreachableError,
)
from sayzhong.client.context import EXIT_AUTH, EXIT_FAILED, EXIT_OK, Context
from sayzhong.client.queue import OfflineQueue

# Refusals that re-sending the same take can never fix: the take leaves the queue (kept in rejected/).
PERMANENT_STATUSES = frozenset({400, 404, 413, 415, 422})


def cmd_sync(ctx: Context) -> int:
    queue = OfflineQueue()
    queue.cleanup_orphans()
    takes = queue.takes()
    synced: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    if not takes:
        if ctx.json:
            ctx.emit_json({"synced": [], "rejected": [], "remaining": 0})
        else:
            ctx.say("Nothing to sync.")
        return EXIT_OK
    client = ctx.client()
    failure: ClientError | None = None
    for take in takes:
        try:
            result = client.submit_attempt(
                item_id=take.item_id,
                audio=queue.audio(take),
                content_type=take.content_type,
                idempotency_key=take.idempotency_key,
            )
        except (ServerUnreachableError, AuthProblemError) as exc:
            queue.record_failure(take, exc.message)
            failure = exc
            break
        except FileTooLargeError as exc:
            queue.reject(take, exc.message)
            rejected.append({"take": take.id, "item_id": take.item_id, "error": exc.message})
            continue
        except ApiRequestError as exc:
            if exc.status not in PERMANENT_STATUSES:
                queue.record_failure(take, exc.message)
                failure = exc
                break
            queue.reject(take, exc.message)
            rejected.append({"take": take.id, "item_id": take.item_id, "error": exc.message})
            continue
        queue.remove(take)
        synced.append(
            {
                "take": take.id,
                "item_id": take.item_id,
                "attempt_id": result.attempt.get("id"),
                "replayed": result.replayed,
            }
        )
        if not ctx.json:
            again = " (the server already had it)" if result.replayed else ""
            ctx.say(f"Synced {take.text or take.item_id} → attempt #{result.attempt.get('id')}{again}")
    remaining = len(queue)
    if ctx.json:
        ctx.emit_json(
            {
                "synced": synced,
                "rejected": rejected,
                "remaining": remaining,
                **({"error": {"code": failure.code, "message": failure.message}} if failure else {}),
            }
        )
    else:
        for item in rejected:
            ctx.say(ctx.style.red(f"Not accepted: {item['item_id']}: {item['error']}"))
        if rejected:
            ctx.say(ctx.style.dim(f"Refused takes are kept in {queue.rejected_dir}."))
        if failure is not None:
            ctx.note(ctx.err_style.red("Error: ") + failure.message)
        ctx.say(f"{len(synced)} synced, {remaining} still queued.")
    if failure is not None:
        return EXIT_AUTH if isinstance(failure, AuthProblemError) else EXIT_FAILED
    return EXIT_OK
