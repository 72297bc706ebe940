"""Data export (access and portability): a ZIP with one JSON file per kind of data, every stored
voice take and calibration recording, and a README that explains each file and field.

`EXPORT_TABLES` maps every table that holds a user's rows to its file; a test derives the list of
such tables from the models, so a new table without a mapping here fails the suite. Secrets that
would be useless or dangerous to hand out (hashes of passwords and tokens) are left out, by name.
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Table
from sqlmodel import Session, SQLModel, col, select

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.audit import record_audit
from sayzhong.db import as_utc, utcnow
from sayzhong.errors import NotFoundError, PermissionDeniedError, RateLimitedError
from sayzhong.models import load_all_models
from sayzhong.notifications.ports import EmailMessageData, Mailer
from sayzhong.practice import storage
from sayzhong.privacy.models import DataExport
from sayzhong.settings import Settings, get_settings

log = logging.getLogger(__name__)

EXPORT_LINK_TTL = timedelta(days=7)
EXPORT_INTERVAL = timedelta(hours=24)
DOWNLOAD_PATH = routes.EXPORT_DOWNLOAD
INVENTORY = Path(__file__).resolve().parents[2] / "docs" / "data-inventory.md"


@dataclass(frozen=True, slots=True)
class ExportSpec:
    file: str
    column: str
    """Column compared with the user: "id"/"user_id"/… (the user id), or a text column (the e-mail)."""
    by: str = "id"
    """"id": the column holds the user id; "id_text": the id as text; "email": the e-mail."""
    omit: frozenset[str] = frozenset()
    about: str = ""
    through: str = ""
    """"parent_table.column": `column` holds ids of the parent's rows whose `column` is the user's
    (a ticket's messages are the user's through `support_ticket.user_id`)."""


_SECRETS = frozenset(
    {
        "password_hash",
        "token_hash",
        "state_hash",
        "nonce",
        "code_verifier",
        "cancel_token_hash",
        "secret_encrypted",
        "code_hash",
    }
)

EXPORT_TABLES: dict[str, ExportSpec] = {
    "user_account": ExportSpec("account.json", "id", about="Your account: e-mail, name, settings."),
    "learner_profile": ExportSpec(
        "learner_profile.json",
        "user_id",
        about="Onboarding answers, voice calibration profile, streak and XP.",
    ),
    "practice_attempt": ExportSpec(
        "practice_attempts.json",
        "user_id",
        about="Every scored take: text, scores, the full result (pitch contours, per-syllable tones) "
        "and `recording` = the file under recordings/.",
    ),
    "practice_syllable_result": ExportSpec(
        "syllable_results.json",
        "user_id",
        about="One row per judged syllable, used for your tone statistics.",
    ),
    "practice_tone_tally": ExportSpec(
        "tone_tallies.json",
        "user_id",
        about="Running counts of your judged syllables per tone and tone pair (your tone statistics).",
    ),
    "practice_review_card": ExportSpec("review_cards.json", "user_id", about="Your review schedule (FSRS)."),
    "user_session": ExportSpec("sessions.json", "user_id", about="Signed-in devices (IP, browser, times)."),
    "password_reset_token": ExportSpec("password_resets.json", "user_id", about="Password-reset requests."),
    "email_verification_token": ExportSpec(
        "email_confirmations.json", "user_id", about="E-mail confirmation links we sent (never the link)."
    ),
    "two_factor_credential": ExportSpec(
        "two_factor.json", "user_id", about="When two-factor sign-in was set up (never the secret)."
    ),
    "two_factor_recovery_code": ExportSpec(
        "two_factor_recovery_codes.json",
        "user_id",
        about="When recovery codes were made and used (never the codes).",
    ),
    "two_factor_challenge": ExportSpec(
        "two_factor_sign_ins.json", "user_id", about="Sign-ins that asked for an authenticator code."
    ),
    "oidc_identity": ExportSpec(
        "linked_sign_in_providers.json", "user_id", about="Linked identity providers."
    ),
    "oidc_login_state": ExportSpec(
        "provider_link_requests.json", "link_user_id", about="Unfinished provider-linking requests."
    ),
    "api_token": ExportSpec(
        "api_tokens.json", "user_id", about="Terminal/API access tokens (never the token)."
    ),
    "login_attempt": ExportSpec(
        "sign_in_attempts.json", "email_key", by="email", about="Recent sign-in attempts."
    ),
    "audit_event": ExportSpec(
        "security_log.json", "actor_id", about="Security log entries about your actions."
    ),
    "outbox_email": ExportSpec("emails.json", "to_address", by="email", about="E-mails queued to you."),
    # Issue 14: reminder and summary e-mail.
    "email_preference": ExportSpec(
        "email_preferences.json", "user_id", about="Which e-mails you opted in to, and your reminder time."
    ),
    "email_delivery": ExportSpec(
        "email_deliveries.json", "user_id", about="Reminders and summaries sent to you (category and day)."
    ),
    "product_news_delivery": ExportSpec(
        "product_news_deliveries.json", "user_id", about="Product-news e-mails sent to you (campaign, time)."
    ),
    "email_suppression": ExportSpec(
        "email_suppression.json", "email", by="email", about="Whether your address bounced or complained."
    ),
    "analytics_event": ExportSpec(
        "analytics_events.json", "distinct_id", by="id_text", about="Product events (only with consent)."
    ),
    "account_attribution": ExportSpec(
        "sign_up_source.json", "user_id", about="Which campaign or site you came from before signing up."
    ),
    "legal_acceptance": ExportSpec(
        "legal_acceptances.json", "user_id", about="Which terms versions you accepted."
    ),
    "consent_record": ExportSpec("cookie_consent.json", "user_id", about="Your cookie and tracking choices."),
    # experiments (issue 14)
    "experiment_exposure": ExportSpec(
        "experiments.json", "user_id", about="A/B experiments you took part in and the variant you saw."
    ),
    "experiment_override": ExportSpec(
        "experiment_overrides.json", "user_id", about="Variants staff forced for you while testing."
    ),
    "data_export": ExportSpec("data_exports.json", "user_id", about="Your export requests."),
    "dsr_request": ExportSpec("privacy_requests.json", "user_id", about="Privacy requests handled by staff."),
    "billing_customer": ExportSpec(
        "billing_customer.json",
        "user_id",
        about="Your Stripe customer id (cards and invoices live at Stripe).",
    ),
    "billing_subscription": ExportSpec(
        "billing_subscriptions.json",
        "user_id",
        about="Your SayZhong Plus subscriptions, trials and cancellations.",
    ),
    "billing_grant": ExportSpec(
        "billing_grants.json", "user_id", about="Complimentary plans staff gave you."
    ),
    "billing_held_take": ExportSpec(
        "billing_held_takes.json", "user_id", about="Takes kept at the daily limit, to be scored later."
    ),
    "billing_daily_usage": ExportSpec(
        "billing_daily_usage.json", "user_id", about="How many scored takes you used on Free each day."
    ),
    "billing_reconcile_finding": ExportSpec(
        "billing_checks.json", "user_id", about="Differences our daily check found between us and Stripe."
    ),
    "erasure_request": ExportSpec(
        "deletion_requests.json", "user_id", omit=frozenset({"steps"}), about="Account-deletion requests."
    ),
    # referrals and share cards (issue 14)
    "referral_code": ExportSpec("invite_code.json", "user_id", about="Your invite link's code."),
    "referral": ExportSpec(
        "invitations.json",
        "referrer_id",
        omit=frozenset({"referred_id"}),
        about="People who signed up through your invite (status and dates only, never who they are).",
    ),
    "share_card": ExportSpec(
        "share_cards.json", "user_id", about="Results and streaks you shared, with what each card shows."
    ),
    # support centre (issue 13)
    "support_ticket": ExportSpec(
        "support_tickets.json", "user_id", about="Your support requests, their handling and your ratings."
    ),
    "support_message": ExportSpec(
        "support_messages.json",
        "ticket_id",
        through="support_ticket.user_id",
        about="Every message on your support requests: yours, staff replies and staff notes about them.",
    ),
    "support_attachment": ExportSpec(
        "support_attachments.json",
        "ticket_id",
        through="support_ticket.user_id",
        about="Files and takes you attached to support requests: names, sizes and `file` = the copy "
        "under support_attachments/.",
    ),
    "support_chat": ExportSpec("support_chats.json", "user_id", about="Your live chats with support."),
    "support_chat_message": ExportSpec(
        "support_chat_messages.json",
        "chat_id",
        through="support_chat.user_id",
        about="Every line of your live chats.",
    ),
    "support_verdict_feedback": ExportSpec(
        "scoring_feedback.json", "user_id", about="Your answers to “Was this right?” on tone verdicts."
    ),
    "support_nps_response": ExportSpec(
        "recommendation_survey.json", "user_id", about="Your answers to “Would you recommend SayZhong?”."
    ),
    "help_feedback": ExportSpec("help_feedback.json", "user_id", about="“Was this helpful?” answers."),
    "help_session": ExportSpec("help_visits.json", "user_id", about="Your visits to the help centre."),
    "help_search": ExportSpec(
        "help_searches.json", "user_id", about="What you searched for in the help centre."
    ),
    "help_article_revision": ExportSpec(
        "help_article_edits.json", "author_id", about="Help-article edits you made as staff."
    ),
    "support_agent": ExportSpec(
        "support_agent.json", "user_id", about="Your support-agent settings (capacity, away), as staff."
    ),
    "support_routing_correction": ExportSpec(
        "support_routing_corrections.json",
        "staff_id",
        about="Ticket routing you corrected as staff (with the ticket's text).",
    ),
    # Business intelligence (issue 15): the only BI table naming a person (aggregates name nobody).
    "bi_report_subscription": ExportSpec(
        "bi_report_subscription.json", "user_id", about="Your subscription to the weekly BI report, as staff."
    ),
    "bi_tone_progress": ExportSpec(
        "bi_tone_progress.json",
        "user_id",
        about="How far you were towards mastering each tone when the nightly statistics job last ran.",
    ),
}
"""Tables that hold a user's rows → how to find and name them. `job_run`/`email_tombstone` hold none."""


@dataclass(frozen=True, slots=True)
class ExportView:
    id: int
    status: str
    progress: int
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    size_bytes: int
    error: str | None


def _view(row: DataExport) -> ExportView:
    assert row.id is not None
    return ExportView(
        id=row.id,
        status=row.status,
        progress=row.progress,
        requested_at=as_utc(row.requested_at),
        finished_at=as_utc(row.finished_at) if row.finished_at else None,
        expires_at=as_utc(row.expires_at) if row.expires_at else None,
        size_bytes=row.size_bytes,
        error=row.error,
    )


def exports_root() -> Path:
    return get_settings().data_dir / "exports"


def export_path(file_name: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}\.zip", file_name):
        raise NotFoundError("That export does not exist.", code="export_not_found")
    return exports_root() / file_name


def request_export(
    *, session: Session, user_id: int, requested_by: str = "self", ip: str | None = None
) -> ExportView:
    """Queue an export for the background job. Needs a verified e-mail; one per 24 hours."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("We could not find that account.")
    # The download link goes by e-mail: only to an address the learner proved they read (for a
    # staff request, the DSR identity check is that proof).
    if not user.email_verified and requested_by != "staff":
        raise PermissionDeniedError(
            "Verify your e-mail address first: we send the download link there.",
            code="export_unverified_email",
        )
    last = session.exec(
        select(DataExport).where(col(DataExport.user_id) == user_id).order_by(col(DataExport.id).desc())
    ).first()
    if last is not None and requested_by == "self" and utcnow() - as_utc(last.requested_at) < EXPORT_INTERVAL:
        raise RateLimitedError(
            "You can ask for one export per 24 hours. Your latest one is listed below.",
            retry_after_s=int((EXPORT_INTERVAL - (utcnow() - as_utc(last.requested_at))).total_seconds()),
        )
    row = DataExport(user_id=user_id, requested_by=requested_by)
    session.add(row)
    session.flush()
    record_audit(
        session=session,
        action="privacy.export_requested",
        actor_id=user_id if requested_by == "self" else None,
        target=f"user:{user_id}",
        ip=ip,
        detail={"by": requested_by},
    )
    return _view(row)


def latest_export(*, session: Session, user_id: int) -> ExportView | None:
    row = session.exec(
        select(DataExport).where(col(DataExport.user_id) == user_id).order_by(col(DataExport.id).desc())
    ).first()
    return _view(row) if row else None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _tables() -> dict[str, Table]:
    load_all_models()
    return dict(SQLModel.metadata.tables)


def _rows(session: Session, table: Table, spec: ExportSpec, user: User) -> list[dict[str, Any]]:
    column = table.c[spec.column]
    value: Any = {"id": user.id, "id_text": str(user.id), "email": user.email}[spec.by]
    condition = column == value
    if spec.through:
        parent_name, _, parent_column = spec.through.partition(".")
        parent = SQLModel.metadata.tables[parent_name]
        condition = column.in_(select(parent.c.id).where(parent.c[parent_column] == value))
    result = session.execute(select(table).where(condition).order_by(*table.primary_key.columns))  # type: ignore[call-overload]
    omit = _SECRETS | spec.omit
    return [{k: _json_value(v) for k, v in row._mapping.items() if k not in omit} for row in result]


def _field_notes() -> dict[tuple[str, str], str]:
    notes: dict[tuple[str, str], str] = {}
    if not INVENTORY.is_file():
        return notes
    for line in INVENTORY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        # table | column | purpose | legal basis | retention | export | erased how
        if len(cells) == 7 and cells[0] not in ("table", "") and not set(cells[0]) <= {"-"}:
            for name in re.split(r",\s*", cells[1]):
                notes[(cells[0], name)] = f"{cells[2]} Legal basis: {cells[3]}. Kept: {cells[4]}."
    return notes


def _readme(user: User, files: dict[str, tuple[str, list[str]]], recordings: int, calibration: int) -> str:
    notes = _field_notes()
    lines = [
        "# Your SayZhong data",
        "",
        f"Exported {utcnow():%Y-%m-%d %H:%M} UTC for {user.email}. Times are UTC (ISO 8601).",
        "Each JSON file is a list of records; the fields are explained below. Password and token",
        "hashes are left out on purpose (they are useless to you and would only help an attacker).",
        "",
        f"- `recordings/` — {recordings} voice take(s), named `<attempt id>.<format>`; the attempt is in",
        "  practice_attempts.json (field `recording`). Takes older than 180 days are deleted by design.",
        f"- `calibration/` — {calibration} microphone-check recording(s) not yet turned into a profile.",
        "- `support_attachments/` — the files and takes you attached to support requests; each is",
        "  listed in support_attachments.json (field `file`).",
        "",
    ]
    for table, (file, columns) in sorted(files.items(), key=lambda kv: kv[1][0]):
        lines += [f"## {file}", "", EXPORT_TABLES[table].about, ""]
        for column in columns:
            note = notes.get((table, column), "Technical identifier." if column.endswith("id") else "")
            lines.append(f"- `{column}` — {note}".rstrip(" —"))
        lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _StoredFile:
    """A column holding the path of a stored file that belongs in the archive itself."""

    column: str
    field: str
    """Replaces `column` in the exported row: the file's path inside the archive (or null)."""
    folder: str


_STORED_FILES = {
    "practice_attempt": _StoredFile("audio_path", "recording", "recordings"),
    "support_attachment": _StoredFile("path", "file", "support_attachments"),
}


def _stored_source(folder: str, relative: str) -> Path:
    if folder == "support_attachments":
        from sayzhong.support.service import attachment_path

        return attachment_path(relative)
    return storage.path_of(relative)


def _copy_stored_files(archive: zipfile.ZipFile, rows: list[dict[str, Any]], stored: _StoredFile) -> int:
    """Copy each row's file into `stored.folder/`, named by row id (plus the learner's own file name
    where there is one, made safe); files already deleted by retention are left out, with null."""
    copied = 0
    for row in rows:
        relative = row.pop(stored.column, None)
        row[stored.field] = None
        if not relative:
            continue
        try:
            source = _stored_source(stored.folder, relative)
        except NotFoundError:
            continue
        if not source.is_file():
            continue
        label = re.sub(r"[^A-Za-z0-9._-]+", "_", str(row.get("filename") or ""))[-80:].lstrip("._")
        target = (
            f"{stored.folder}/{row['id']}-{label}" if label else f"{stored.folder}/{row['id']}{source.suffix}"
        )
        archive.write(source, target)
        row[stored.field] = target
        copied += 1
    return copied


def build_export_zip(*, session: Session, user_id: int, progress: Any = None) -> bytes:
    """The archive for one user (also used by the operator CLI and staff DSR exports)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError("We could not find that account.")
    tables = _tables()
    buffer = io.BytesIO()
    files: dict[str, tuple[str, list[str]]] = {}
    recordings = calibration = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n, (name, spec) in enumerate(sorted(EXPORT_TABLES.items())):
            table = tables.get(name)
            if table is None:
                continue
            rows = _rows(session, table, spec, user)
            columns = [c.name for c in table.columns if c.name not in _SECRETS | spec.omit]
            stored = _STORED_FILES.get(name)
            if stored is not None:
                copied = _copy_stored_files(archive, rows, stored)
                recordings += copied if name == "practice_attempt" else 0
                columns = [stored.field if c == stored.column else c for c in columns]
            archive.writestr(spec.file, json.dumps(rows, ensure_ascii=False, indent=2))
            files[name] = (spec.file, columns)
            if progress is not None:
                progress(int(80 * (n + 1) / len(EXPORT_TABLES)))
        folder = get_settings().data_dir / "calibration" / str(user_id)
        if folder.is_dir():
            for path in sorted(folder.glob("*.take")):
                archive.write(path, f"calibration/{path.name}")
                calibration += 1
        archive.writestr("README.md", _readme(user, files, recordings, calibration))
    return buffer.getvalue()


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="sayzhong-export-link")


def download_url(settings: Settings, export_id: int) -> str:
    token = _serializer(settings).dumps({"export": export_id})
    return f"{settings.backend_url.rstrip('/')}{DOWNLOAD_PATH}?token={token}"


def resolve_download(*, session: Session, token: str, settings: Settings | None = None) -> tuple[Path, int]:
    """(zip path, user id) for a valid, unexpired link; a clear error otherwise."""
    settings = settings or get_settings()
    try:
        data = _serializer(settings).loads(token, max_age=int(EXPORT_LINK_TTL.total_seconds()))
    except SignatureExpired:
        raise NotFoundError(
            "This download link has expired. Ask for a new export.", code="export_expired"
        ) from None
    except BadSignature:
        raise NotFoundError("This download link is not valid.", code="export_not_found") from None
    row = session.get(DataExport, int(data.get("export", 0)) if isinstance(data, dict) else 0)
    if row is None or row.status != "ready" or not row.file_name:
        raise NotFoundError("This export is no longer available. Ask for a new one.", code="export_not_found")
    path = export_path(row.file_name)
    if not path.is_file():
        raise NotFoundError("This export is no longer available. Ask for a new one.", code="export_not_found")
    record_audit(session=session, action="privacy.export_downloaded", target=f"user:{row.user_id}")
    return path, row.user_id


def build_queued_exports(*, session_factory: Any, mailer_for: Any = None, limit: int = 5) -> int:
    """Job: build queued exports one by one (progress committed as it goes), e-mail the links."""
    from sayzhong import wiring

    settings = get_settings()
    built = 0
    for _ in range(limit):
        with session_factory() as session:
            row = session.exec(
                select(DataExport).where(col(DataExport.status) == "queued").order_by(col(DataExport.id))
            ).first()
            if row is None:
                break
            row.status, row.progress = "building", 5
            session.add(row)
            export_id, user_id = row.id, row.user_id
        assert export_id is not None

        def _progress(value: int, export_id: int = export_id) -> None:
            with session_factory() as progress_session:
                progress_row = progress_session.get(DataExport, export_id)
                if progress_row is not None:
                    progress_row.progress = max(progress_row.progress, min(value, 95))
                    progress_session.add(progress_row)

        try:
            with session_factory() as session:
                data = build_export_zip(session=session, user_id=user_id, progress=_progress)
            exports_root().mkdir(parents=True, exist_ok=True)
            name = f"{secrets.token_hex(16)}.zip"
            partial = export_path(name).with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(export_path(name))
            with session_factory() as session:
                row = session.get(DataExport, export_id)
                user = session.get(User, user_id)
                assert row is not None and user is not None
                now = utcnow()
                row.status, row.progress, row.file_name, row.size_bytes = "ready", 100, name, len(data)
                row.finished_at, row.expires_at = now, now + EXPORT_LINK_TTL
                session.add(row)
                mailer: Mailer = (mailer_for or wiring.get_mailer)(settings, session=session)
                mailer.send(
                    EmailMessageData(
                        to=user.email,
                        subject="Your SayZhong data is ready to download",
                        text_body=(
                            f"Hello {user.display_name},\n\nthe copy of your SayZhong data you asked for is "
                            f"ready ({len(data) // 1024 + 1} KB). Download it within 7 days:\n\n"
                            f"{download_url(settings, export_id)}\n\nThe archive holds your recordings, so "
                            "keep it somewhere safe. If you did not ask for it, change your password.\n"
                        ),
                    )
                )
            built += 1
        except Exception as exc:
            log.exception("export %s failed", export_id)
            with session_factory() as session:
                row = session.get(DataExport, export_id)
                if row is not None:
                    row.status, row.error = "failed", f"{type(exc).__name__}"[:300]
                    session.add(row)
    return built


def purge_finished_exports(*, session: Session, older_than: timedelta = EXPORT_LINK_TTL) -> int:
    """Retention: delete archives whose link has expired (the row stays as 'expired' for the learner)."""
    cutoff = utcnow() - older_than
    rows = session.exec(
        select(DataExport).where(
            col(DataExport.status).in_(("ready", "failed")), col(DataExport.requested_at) < cutoff
        )
    ).all()
    for row in rows:
        if row.file_name:
            export_path(row.file_name).unlink(missing_ok=True)
        row.status, row.file_name = "expired", None
        session.add(row)
    session.flush()
    return len(rows)
