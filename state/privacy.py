"""Cookie consent banner, legal pages, the learner's export/deletion controls and staff privacy pages.

Thin handlers: validate arguments, call the privacy and legal services in a worker thread, copy
plain values into vars. The consent decision lives server-side (append-only); the browser keeps
only a random visitor id in the necessary `sz_consent` cookie.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from sayzhong import routes
from sayzhong.errors import SayZhongError
from sayzhong.legal import documents
from sayzhong.legal import service as legal
from sayzhong.privacy import consent, erasure, export
from sayzhong.privacy.consent import CONSENT_MAX_AGE
from sayzhong.settings import get_settings
from state.session import SessionState, run_in_session

SIGNALS_ID = "consent-signals"
"""Id of the consent signals component (components/consent_signals.py) inside the consent banner."""


def page_view_beacon(path: str) -> EventSpec:
    """Make the browser send the analytics page view; only returned after consent was checked server-side.

    The consent signals component receives the request as JSON through its ref and POSTs it; no
    script string is evaluated, so the Content-Security-Policy needs no 'unsafe-eval'.
    """
    url = get_settings().backend_url.rstrip("/") + routes.ANALYTICS_CAPTURE
    return rx.set_value(SIGNALS_ID, json.dumps({"url": url, "path": path}))


class ConsentState(rx.State):
    """The first-layer banner, the "Choose" layer, cookie settings and the privacy notice."""

    visitor: str = rx.Cookie(
        "", name=consent.COOKIE_NAME, path="/", max_age=int(CONSENT_MAX_AGE.total_seconds()), same_site="lax"
    )
    ask: bool = False
    choosing: bool = False
    analytics_on: bool = False
    marketing_on: bool = False
    gpc_honoured: bool = False
    decided_at: str = ""
    saved_message: str = ""
    notice_version: int = 0
    # Issue 14: the attribution route for the first-visit report, and the marketing tags to load on
    # this page — filled only when the stored decision accepts marketing.
    touch_url: str = ""
    tag_scripts: list[str] = []

    async def _user_id(self) -> int | None:
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        return user.id if user else None

    def _header_gpc(self) -> bool:
        headers = self.router.headers.raw_headers
        return str(headers.get("sec-gpc", headers.get("Sec-GPC", ""))).strip() == "1"

    @rx.event
    async def evaluate(self, gpc_signal: Any = False):
        """On every page mount the consent signals component reports the browser's GPC signal here."""
        gpc = gpc_signal is True or self._header_gpc()
        user_id = await self._user_id()
        visitor = self.visitor

        def _status(session):
            status = consent.consent_status(session=session, visitor_id=visitor, user_id=user_id, gpc=gpc)
            notice = legal.consent_needs(session=session, user_id=user_id).privacy_notice if user_id else None
            return status, notice.version if notice else 0

        status, notice_version = await run_in_session(_status)
        self._apply(status)
        self.notice_version = notice_version
        self.touch_url = get_settings().backend_url.rstrip("/") + routes.ATTRIBUTION_TOUCH
        await self._load_tags(status.marketing)
        if status.analytics:
            return page_view_beacon(self.router.url.path)
        return None

    async def _load_tags(self, marketing: bool) -> None:
        if not marketing:
            self.tag_scripts = []
            return
        from sayzhong.analytics import tags

        path = self.router.url.path
        hosts = tags.allowed_hosts(get_settings().marketing_tag_hosts)
        self.tag_scripts = await run_in_session(
            lambda session: tags.scripts_for_page(session=session, path=path, hosts=hosts)
        )

    def _apply(self, status: consent.ConsentStatus) -> None:
        self.ask = status.ask
        self.analytics_on = status.analytics
        self.marketing_on = status.marketing
        self.gpc_honoured = status.gpc_honoured
        self.decided_at = status.decided_at.strftime("%d %b %Y, %H:%M UTC") if status.decided_at else ""
        if status.visitor_id and status.decided_at is not None and self.visitor != status.visitor_id:
            self.visitor = status.visitor_id

    async def _decide(self, *, analytics: bool, marketing: bool, source: str):
        user_id = await self._user_id()
        visitor = self.visitor or consent.new_visitor_id()
        gpc = self._header_gpc()

        def _record(session):
            consent.record_consent(
                session=session,
                visitor_id=visitor,
                user_id=user_id,
                analytics=analytics,
                marketing=marketing,
                source=source,
                gpc=gpc,
            )
            return consent.consent_status(session=session, visitor_id=visitor, user_id=user_id, gpc=False)

        status = await run_in_session(_record)
        self.visitor = visitor
        self._apply(status)
        await self._load_tags(status.marketing)
        self.ask = False
        self.choosing = False
        self.saved_message = (
            "Your choice is saved."
            if source != "do_not_sell"
            else ("Done: we will not sell or share your information, and analytics and marketing are off.")
        )
        if status.analytics:
            return page_view_beacon(self.router.url.path)
        return None

    @rx.event
    async def accept_all(self):
        return await self._decide(analytics=True, marketing=True, source="banner")

    @rx.event
    async def reject_all(self):
        source = "settings" if self.router.url.path.rstrip("/") == routes.COOKIE_SETTINGS else "banner"
        return await self._decide(analytics=False, marketing=False, source=source)

    @rx.event
    def open_choices(self) -> None:
        self.choosing = True

    @rx.event
    def set_analytics_choice(self, value: bool) -> None:
        self.analytics_on = value is True

    @rx.event
    def set_marketing_choice(self, value: bool) -> None:
        self.marketing_on = value is True

    @rx.event
    async def save_choices(self):
        source = "settings" if self.router.url.path.rstrip("/") == routes.COOKIE_SETTINGS else "banner"
        return await self._decide(analytics=self.analytics_on, marketing=self.marketing_on, source=source)

    @rx.event
    async def do_not_sell(self):
        return await self._decide(analytics=False, marketing=False, source="do_not_sell")

    @rx.event
    async def dismiss_notice(self) -> None:
        user_id = await self._user_id()
        if user_id:
            await run_in_session(
                lambda session: legal.dismiss_privacy_notice(session=session, user_id=user_id)
            )
        self.notice_version = 0


class LegalState(rx.State):
    """Document pages: current, a past version, the history list and a diff."""

    doc: str = ""
    title: str = ""
    version: int = 0
    current_version: int = 0
    effective: str = ""
    summary: str = ""
    material: bool = False
    body: str = ""
    history: list[dict[str, str]] = []
    diff_lines: list[dict[str, str]] = []
    not_found: str = ""
    accept_error: str = ""

    def _parts(self) -> list[str]:
        return [p for p in self.router.url.path.split("/") if p]

    def _show(self, item: documents.LegalVersion) -> None:
        self.doc, self.title, self.version = item.doc, item.title, item.version
        self.current_version = documents.current(item.doc).version
        self.effective = item.effective.strftime("%d %B %Y")
        self.summary, self.material, self.body = item.summary, item.material, item.body

    @rx.event
    def load(self) -> None:
        """/legal/<doc>, /legal/<doc>/v/<n>, /legal/<doc>/history, /legal/<doc>/diff/<n>."""
        self.not_found = ""
        self.diff_lines = []
        parts = self._parts()
        try:
            doc = parts[1] if len(parts) > 1 else "terms"
            version = None
            if len(parts) >= 4 and parts[2] in ("v", "diff"):
                if not parts[3].isdigit() or len(parts[3]) > 4:
                    raise SayZhongError("That version of the document does not exist.")
                version = int(parts[3])
            item = documents.get_version(doc, version) if version else documents.current(doc)
            self._show(item)
            self.history = [
                {
                    "version": str(v.version),
                    "effective": v.effective.strftime("%d %b %Y"),
                    "summary": v.summary,
                    "material": "material change" if v.material else "minor change",
                    "href": routes.legal_url(doc, v.version),
                    "diff": f"{routes.LEGAL}/{doc}/diff/{v.version}" if v.version > 1 else "",
                }
                for v in reversed(documents.versions(doc))
            ]
            if len(parts) >= 3 and parts[2] == "diff" and version:
                self.diff_lines = [
                    {"kind": d.kind, "text": d.text or " "} for d in documents.diff(doc, version)
                ]
        except SayZhongError as exc:
            self.not_found = exc.user_message
            self.title, self.body, self.history = "Document not found", "", []

    @rx.event
    async def load_accept(self):
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            return rx.redirect(routes.sign_in_url(routes.LEGAL_ACCEPT))
        self._show(documents.current("terms"))
        self.history = [
            {"version": str(v.version), "effective": v.effective.strftime("%d %b %Y"), "summary": v.summary}
            for v in reversed(documents.versions("terms"))
        ]
        return None

    @rx.event
    async def accept_terms(self):
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None:
            return rx.redirect(routes.SIGN_IN)
        ip = session_state.client_ip()

        await run_in_session(
            lambda session: legal.accept_current_terms(session=session, user_id=user.id, ip=ip)
        )
        return rx.redirect(routes.HOME)


class PrivacyAccountState(rx.State):
    """Account page: download my data, delete my account; the locked page; the cancel link."""

    export_status: str = ""
    export_progress: int = 0
    export_requested: str = ""
    export_expires: str = ""
    export_message: str = ""
    export_error: str = ""
    email_verified: bool = False
    has_password: bool = True
    delete_error: str = ""
    confirming_delete: bool = False
    deletion_date: str = ""
    cancel_message: str = ""
    cancel_error: str = ""

    async def _user(self):
        session_state = await self.get_state(SessionState)
        return await session_state.current_user()

    @rx.event
    async def load(self) -> None:
        self.export_message = self.export_error = self.delete_error = ""
        self.confirming_delete = False
        user = await self._user()
        if user is None:
            return
        self.email_verified = user.email_verified
        self.has_password = user.has_password
        latest = await run_in_session(lambda session: export.latest_export(session=session, user_id=user.id))
        if latest is None:
            self.export_status, self.export_progress, self.export_requested, self.export_expires = (
                "",
                0,
                "",
                "",
            )
            return
        self.export_status, self.export_progress = latest.status, latest.progress
        self.export_requested = latest.requested_at.strftime("%d %b %Y, %H:%M UTC")
        self.export_expires = latest.expires_at.strftime("%d %b %Y") if latest.expires_at else ""

    @rx.event
    async def request_export(self):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.SIGN_IN)
        session_state = await self.get_state(SessionState)
        ip = session_state.client_ip()
        try:
            await run_in_session(
                lambda session: export.request_export(session=session, user_id=user.id, ip=ip)
            )
        except SayZhongError as exc:
            self.export_error = exc.user_message
            return None
        await self.load()  # type: ignore[operator]  # see components/props.py
        self.export_message = (
            "We are preparing your archive. We will e-mail you a download link (usually within minutes)."
        )
        return None

    @rx.event
    def start_delete(self) -> None:
        self.confirming_delete = True
        self.delete_error = ""

    @rx.event
    def stop_delete(self) -> None:
        self.confirming_delete = False

    @rx.event
    async def confirm_delete(self, form: dict[str, Any]):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.SIGN_IN)
        password = form.get("password", "")
        password = password[:1024] if isinstance(password, str) else ""
        session_state = await self.get_state(SessionState)
        token, ip = session_state.session_token(), session_state.client_ip()

        def _request(session):
            ok = erasure.reauthenticate(
                session=session, user_id=user.id, password=password, session_token=token
            )
            return erasure.request_erasure(
                session=session, user_id=user.id, reauthenticated=ok, current_token=token, ip=ip
            )

        try:
            await run_in_session(_request)
        except SayZhongError as exc:
            self.delete_error = (
                exc.user_message
                if self.has_password or exc.code != "reauth_required"
                else "Sign out, sign in again with your provider, then delete within 10 minutes."
            )
            if exc.code == "reauth_required" and self.has_password:
                self.delete_error = "That password is not right. Your account was not deleted."
            return None
        return rx.redirect(routes.ACCOUNT_DELETION)

    @rx.event
    async def load_locked(self):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.SIGN_IN)
        pending = await run_in_session(
            lambda session: erasure.pending_erasure(session=session, user_id=user.id)
        )
        if pending is None:
            return rx.redirect(routes.HOME)
        self.deletion_date = pending.scheduled_for.strftime("%d %B %Y")
        self.cancel_message = self.cancel_error = ""
        return None

    @rx.event
    async def cancel_delete(self):
        user = await self._user()
        if user is None:
            return rx.redirect(routes.SIGN_IN)
        try:
            await run_in_session(lambda session: erasure.cancel_erasure(session=session, user_id=user.id))
        except SayZhongError as exc:
            self.cancel_error = exc.user_message
            return None
        return rx.redirect(routes.HOME)

    @rx.event
    async def load_cancel_link(self) -> None:
        token = self.router.url.query_parameters.get("token", "")
        token = token[:200] if isinstance(token, str) else ""
        self.cancel_message = self.cancel_error = ""
        if not token:
            self.cancel_error = "This link is incomplete. Open the link from the e-mail again."
            return
        try:
            view = await run_in_session(lambda session: erasure.cancel_erasure(session=session, token=token))
        except SayZhongError as exc:
            self.cancel_error = exc.user_message
            return
        self.cancel_message = (
            f"Your account will not be deleted (the request of {view.requested_at:%d %B %Y} is cancelled). "
            "Sign in to keep learning."
        )


class AdminPrivacyState(rx.State):
    """Staff: data-subject request queue and acceptance coverage per document version."""

    requests: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    coverage: list[dict[str, str]] = []
    message: str = ""
    error: str = ""
    show_closed: bool = False

    async def _staff(self):
        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        return user if user is not None and user.is_staff else None

    @rx.event
    async def load(self) -> None:
        from sayzhong.privacy import dsr

        user = await self._staff()
        if user is None:
            return
        closed = self.show_closed

        def _read(session):
            items = dsr.list_requests(session=session, actor=user, include_closed=closed)
            return items, legal.acceptance_coverage(session=session)

        try:
            items, coverage = await run_in_session(_read)
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.requests = [
            {
                "id": str(r.id),
                "kind": r.kind,
                "email": r.requester_email,
                "name": r.requester_name,
                "details": r.details[:300],
                "status": r.status,
                "identity": r.identity_method or "",
                "account": "yes" if r.user_id else "no account",
                "received": r.received_at.strftime("%d %b %Y"),
                "due": r.due_at.strftime("%d %b %Y"),
                "days_left": "closed" if r.closed_at else str(r.days_left()),
                "overdue": "yes" if r.overdue else "",
                "resolution": r.resolution,
            }
            for r in items
        ]
        self.coverage = [
            {
                "document": c.document,
                "version": str(c.version),
                "effective": c.effective,
                "material": "yes" if c.material else "no",
                "accepted": f"{c.accepted_users} / {c.total_users} ({c.percent}%)",
            }
            for c in coverage
        ]

    @rx.event
    async def toggle_closed(self) -> None:
        self.show_closed = not self.show_closed
        await self.load()  # type: ignore[operator]  # see components/props.py

    async def _act(self, work, done: str) -> None:
        self.message = self.error = ""
        user = await self._staff()
        if user is None:
            self.error = "Only staff can do that."
            return
        try:
            await run_in_session(lambda session: work(session, user))
        except SayZhongError as exc:
            self.error = exc.user_message
            return
        self.message = done
        await self.load()  # type: ignore[operator]  # see components/props.py

    @rx.event
    async def create(self, form: dict[str, Any]) -> None:
        from sayzhong.privacy import dsr

        def text(key: str, limit: int) -> str:
            value = form.get(key, "")
            return value[:limit] if isinstance(value, str) else ""

        await self._act(
            lambda session, user: dsr.create_request(
                session=session,
                actor=user,
                actor_id=user.id,
                kind=text("kind", 20),
                requester_email=text("email", 320),
                requester_name=text("name", 120),
                details=text("details", 5000),
            ),
            "Request logged. The 30-day deadline starts today.",
        )

    @rx.event
    async def verify(self, form: dict[str, Any]) -> None:
        from sayzhong.privacy import dsr

        request_id = str(form.get("request_id", ""))
        if not request_id.isdigit() or len(request_id) > 10:
            return
        method = form.get("method", "")
        await self._act(
            lambda session, user: dsr.verify_identity(
                session=session,
                actor=user,
                actor_id=user.id,
                request_id=int(request_id),
                method=method if isinstance(method, str) else "",
            ),
            "Identity verified.",
        )

    @rx.event
    async def run_export(self, request_id: str) -> None:
        from sayzhong.accounts.access import require_role
        from sayzhong.privacy import dsr

        if not str(request_id).isdigit():
            return

        def work(session, user):
            require_role(user, "support", "admin")
            _view, user_id = dsr.require_verified(session=session, request_id=int(request_id))
            export.request_export(session=session, user_id=user_id, requested_by="staff")
            dsr.record_action(session=session, actor_id=user.id, request_id=int(request_id), action="export")

        await self._act(work, "Export queued: the download link goes to the account's address.")

    @rx.event
    async def run_erasure(self, request_id: str) -> None:
        from sayzhong.accounts.access import require_role
        from sayzhong.privacy import dsr

        if not str(request_id).isdigit():
            return

        def work(session, user):
            require_role(user, "support", "admin")
            _view, user_id = dsr.require_verified(session=session, request_id=int(request_id))
            erasure.request_erasure(
                session=session, user_id=user_id, reauthenticated=True, requested_by="staff"
            )
            dsr.record_action(session=session, actor_id=user.id, request_id=int(request_id), action="erasure")

        await self._act(work, "Deletion scheduled (14-day grace period; the account holder can cancel).")

    @rx.event
    async def close(self, form: dict[str, Any]) -> None:
        from sayzhong.privacy import dsr

        request_id = str(form.get("request_id", ""))
        if not request_id.isdigit() or len(request_id) > 10:
            return
        resolution = form.get("resolution", "")
        await self._act(
            lambda session, user: dsr.close_request(
                session=session,
                actor=user,
                actor_id=user.id,
                request_id=int(request_id),
                resolution=resolution if isinstance(resolution, str) else "",
                rejected=form.get("rejected") in (True, "on", "true"),
            ),
            "Request closed.",
        )


class AdminJobsState(rx.State):
    """Staff: the last job runs and failures."""

    runs: list[dict[str, str]] = []
    failures: int = 0

    @rx.event
    async def load(self) -> None:
        from sayzhong.ops.jobs import list_runs

        session_state = await self.get_state(SessionState)
        user = await session_state.current_user()
        if user is None or not user.is_staff:
            return
        runs = await run_in_session(lambda session: list_runs(session=session, limit=100))
        self.failures = sum(1 for r in runs if r.status == "failed")
        self.runs = [
            {
                "job": r.job,
                "status": r.status,
                "started": r.started_at.strftime("%d %b %H:%M:%S"),
                "duration": f"{(r.finished_at - r.started_at).total_seconds():.1f} s"
                if r.finished_at
                else "running",
                "counts": ", ".join(f"{k}: {v}" for k, v in r.counts.items()) or "—",
                "error": r.error or "",
            }
            for r in runs
        ]
