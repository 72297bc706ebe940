"""End-to-end fixtures: the real app (production build, one port) on loopback with a fresh database,
an OpenID Connect mock provider, and Playwright driving Debian's Chromium.

On failure each test's browser console, page errors and a screenshot are saved under
`test-results/e2e/<test name>/` and attached to the report.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, sync_playwright

from sayzhong.routes import STRIPE_WEBHOOK
from tests.support.localstripe_server import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe
from tests.support.ports import free_port
from tests.support.posthog_capture import PostHogCapture

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# `SAYZHONG_E2E_MODE=production`: the journeys run against the production-like stack instead of
# `make run`'s single process on SQLite — PostgreSQL, Redis (Reflex state, rate limits) and two
# granian workers behind one port, started by `scripts/serve.sh` as the container does.
PRODUCTION_MODE = os.environ.get("SAYZHONG_E2E_MODE", "") == "production"
# Each mode has its own artefacts folder and compiles the front end into its own Reflex work folder
# (the compiled pages carry the app's URL), so `scripts/test.sh` can run both modes at once.
RESULTS = ROOT / "test-results" / ("e2e-production" if PRODUCTION_MODE else "e2e")
WEB_WORKDIR = ".web-production" if PRODUCTION_MODE else ".web"
OIDC_USER = {
    "sub": "sso-learner-1",
    "email": "sso.learner@example.org",
    "email_verified": True,
    "name": "Sso Learner",
}


# Every page reports Content-Security-Policy violations to its console; a journey with any fails.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("[csp-violation] " + e.effectiveDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""


def watch_page(pg: Page) -> tuple[list[str], list[str]]:
    """Record `pg`'s console messages and page errors (CSP violations included)."""
    console: list[str] = []
    errors: list[str] = []
    pg.add_init_script(CSP_WATCH)

    def on_console(msg: ConsoleMessage) -> None:
        console.append(f"[{msg.type}] {msg.text}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    return console, errors


def csp_violations(console: list[str]) -> list[str]:
    """Violations seen by the page's listener, or reported by Chromium itself ("Refused to …")."""
    return [m for m in console if "[csp-violation]" in m or "Content Security Policy" in m]


def fail_on_csp_violations(name: str, console: list[str]) -> None:
    found = csp_violations(console)
    if found:
        message = f"{name}: the page broke its Content-Security-Policy:\n" + "\n".join(found)
        pytest.fail(message, pytrace=False)


E2E_WEBHOOK_SECRET = "whsec_sayzhong_e2e"


def localstripe_env(server: LocalStripe) -> dict[str, str]:
    return {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": E2E_WEBHOOK_SECRET,
        "STRIPE_API_BASE": server.url,
        "STRIPE_JS_URL": server.js_url,
    }


def wait_http(
    url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None, *, in_a_row: int = 1
) -> None:
    """Until `url` answers below 500 `in_a_row` times running, each on a new connection (several
    workers share the port: /readyz is 503 on each until that worker's start-up loads are done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        answered = 0
        with contextlib.suppress(httpx.HTTPError):
            while httpx.get(url, timeout=2).status_code < 500:
                answered += 1
                if answered >= in_a_row:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    env: dict[str, str]
    oidc_issuer: str
    admin_email: str = "admin@sayzhong.app"
    admin_password: str = field(default="")
    _admin_totp: str = field(default="")

    def cli(self, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "sayzhong", *args],
            cwd=ROOT,
            env=self.env,
            input=input_text,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def python(self, code: str, *args: str) -> str:
        """Run a snippet against the app's database (operator's view) and return what it prints."""
        out = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if out.returncode != 0:  # the snippet's own traceback, not only an exit status
            raise AssertionError(f"operator snippet failed ({out.returncode}):\n{out.stderr[-3000:]}")
        return out.stdout.strip()

    def role_of(self, email: str) -> str:
        return self.python(
            "import sys\n"
            "from sayzhong.db import session_scope\n"
            "from sayzhong.accounts.users import find_user_by_email\n"
            "with session_scope() as s:\n"
            "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
            "    print(f'{u.id} {u.role}')\n",
            email,
        )

    def enable_two_factor(self, email: str) -> str:
        """Enrol an authenticator for the account (as the user would) and return its secret."""
        return self.python(
            "import sys, time, pyotp\n"
            "from sayzhong.db import session_scope\n"
            "from sayzhong.accounts import two_factor\n"
            "from sayzhong.accounts.users import find_user_by_email\n"
            "with session_scope() as s:\n"
            "    u = find_user_by_email(session=s, email=sys.argv[1])\n"
            "    secret = two_factor.begin_enrolment(session=s, user_id=u.id).secret\n"
            # The previous step's code (still accepted), so the current step is free for sign-in.
            "    code = pyotp.TOTP(secret).at(time.time() - 30)\n"
            "    two_factor.confirm_enrolment(session=s, user_id=u.id, code=code)\n"
            "    print(secret)\n",
            email,
        )

    def admin_totp_secret(self) -> str:
        """The seeded admin's authenticator (staff pages require two-factor sign-in)."""
        if not self._admin_totp:
            self._admin_totp = self.enable_two_factor(self.admin_email)
        return self._admin_totp

    def set_role(self, email: str, role: str) -> None:
        self.python(
            "import sys\n"
            "from sqlalchemy import update\n"
            "from sayzhong.db import session_scope\n"
            "from sayzhong.accounts.models import User\n"
            "with session_scope() as s:\n"
            "    s.execute(update(User).where(User.email == sys.argv[1]).values(role=sys.argv[2]))\n",
            email,
            role,
        )

    def grant_plus(self, email: str, days: int = 7) -> None:
        """Billing (issue 12): give a learner Plus as the seeded admin would on /admin/billing
        (staff services need the actor's two-factor sign-in, so the admin gets it first)."""
        self.admin_totp_secret()
        self.python(
            "import sys\n"
            "from sayzhong.db import session_scope\n"
            "from sayzhong.accounts.users import find_user_by_email\n"
            "from sayzhong.billing.service import grant_plus\n"
            "with session_scope() as s:\n"
            "    admin = find_user_by_email(session=s, email=sys.argv[2])\n"
            "    grant_plus(session=s, actor=admin, email=sys.argv[1], days=int(sys.argv[3]),\n"
            "               reason='e2e journey')\n",
            email,
            self.admin_email,
            str(days),
        )

    def latest_email_to(self, address: str) -> str:
        code = (
            "import sys, json\n"
            "from sayzhong.db import session_scope\n"
            "from sayzhong.notifications.service import latest_outbox_email_to\n"
            "with session_scope() as s:\n"
            "    e = latest_outbox_email_to(session=s, to=sys.argv[1])\n"
            "    print(e.text_body if e else '')\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, address],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("oidc") / "oidc.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
            "true",
            "--user-claims",
            json.dumps(OIDC_USER),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{issuer}/.well-known/openid-configuration", 30, proc)
        yield issuer
    finally:
        stop_group(proc)


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    """Billing (issue 12): the real localstripe server; it also serves the test Stripe.js the page loads."""
    server = LocalStripe().start(str(tmp_path_factory.mktemp("localstripe") / "localstripe.log"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def backing_services() -> Iterator[dict[str, str]]:
    """The environment the app needs for its mode: nothing extra for the embedded mode; a private
    PostgreSQL and redis-server (started here, stopped after the run) for the production mode."""
    if not PRODUCTION_MODE:
        yield {}
        return
    import tempfile

    from tests.support.redis_server import running_redis

    work = Path(tempfile.mkdtemp(prefix="sayzhong-e2e-"))
    work.chmod(0o755)  # PostgreSQL runs as its own user when the suite runs as root
    pg = ROOT / "scripts" / "pg.sh"
    database_url = subprocess.run(
        [str(pg), "start", str(work / "pg"), str(free_port())], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        with running_redis(work / "redis") as redis_url:
            yield {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "GRANIAN_WORKERS": "2"}
    finally:
        subprocess.run([str(pg), "stop", str(work / "pg")], check=False, capture_output=True)
        subprocess.run(["rm", "-rf", str(work)], check=False)


@pytest.fixture(scope="session")
def posthog_capture() -> Iterator[PostHogCapture]:
    """Issue 14: the app sends product analytics to this local PostHog stand-in (it also serves the
    marketing-tag script on its own port, which MARKETING_TAG_HOSTS allows)."""
    server = PostHogCapture().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app(
    tmp_path_factory: pytest.TempPathFactory,
    oidc_provider: str,
    localstripe: LocalStripe,
    backing_services: dict[str, str],
    posthog_capture: PostHogCapture,
) -> Iterator[RunningApp]:
    data_dir = tmp_path_factory.mktemp("app-data")
    port = free_port()
    url = f"http://localhost:{port}"
    env = {
        **os.environ,
        "ENV": "test",
        "APP_URL": url,
        "API_URL": "",
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "OIDC_ISSUER": oidc_provider,
        "OIDC_CLIENT_ID": "sayzhong-e2e",
        "OIDC_CLIENT_SECRET": "e2e-secret",
        "OIDC_DISPLAY_NAME": "Test SSO",
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": "3",
        **localstripe_env(localstripe),
        # Issue 14: PostHog (server-side capture) and the marketing-tag host, both the local stand-in.
        "POSTHOG_API_KEY": "phc_e2e",
        "POSTHOG_HOST": posthog_capture.url,
        "MARKETING_TAG_HOSTS": posthog_capture.url.removeprefix("http://"),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_NPM": os.environ.get("REFLEX_USE_NPM", "1"),
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        "REFLEX_WEB_WORKDIR": WEB_WORKDIR,
        **backing_services,
    }
    subprocess.run(["alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    running = RunningApp(url=url, data_dir=data_dir, env=env, oidc_issuer=oidc_provider)
    running.cli("seed")
    running.cli("billing", "sync-catalog")
    localstripe.register_webhook(url + STRIPE_WEBHOOK, E2E_WEBHOOK_SECRET)
    running.admin_password = (data_dir / "dev-admin-password.txt").read_text().strip()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / "app.log"  # kept after the run for post-mortems
    with log_path.open("wb") as log:
        command = [
            "reflex",
            "run",
            "--env",
            "prod",
            "--single-port",
            "--frontend-port",
            str(port),
            "--backend-host",
            "127.0.0.1",
        ]
        if PRODUCTION_MODE:
            command = [str(ROOT / "scripts" / "serve.sh")]
        proc = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**env, "PORT": str(port), "HOST": "127.0.0.1"} if PRODUCTION_MODE else env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"{url}/readyz", 300, proc, in_a_row=4)
            wait_http(f"{url}/", 60, proc)
            yield running
        except BaseException:
            sys.stderr.write(log_path.read_text(errors="replace")[-5000:])
            raise
        finally:
            stop_group(proc)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def mic_page(playwright_instance: Playwright, request: pytest.FixtureRequest) -> Iterator[MicPageFactory]:
    """`mic_page(wav)` opens a page in a Chromium whose fake microphone plays `wav` once.

    `mic_page(wav, allow=False)` opens one where microphone permission is denied; `loop=True` repeats
    the file forever (speech, then its trailing silence), for journeys that record several takes;
    `viewport` sizes the window (default 1280x900); `bypass_csp=True` lets a test inject axe."""
    opened: list[tuple[Browser, BrowserContext, Page, list[str], list[str]]] = []

    def factory(
        wav: Path | None,
        *,
        allow: bool = True,
        loop: bool = False,
        viewport: dict[str, int] | None = None,
        bypass_csp: bool = False,
    ) -> Page:
        args = list(CHROMIUM_ARGS)
        if wav is not None:
            args += [
                "--use-fake-ui-for-media-stream" if allow else "--deny-permission-prompts",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-audio-capture={wav}" + ("" if loop else "%noloop"),
            ]
        browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        ctx = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 900},
            permissions=["microphone"] if allow else [],
            bypass_csp=bypass_csp,
        )
        ctx.set_default_timeout(30_000)
        pg = ctx.new_page()
        console, errors = watch_page(pg)
        opened.append((browser, ctx, pg, console, errors))
        return pg

    yield factory
    rep = getattr(request.node, "rep_call", None)
    for n, (browser, _ctx, pg, console, errors) in enumerate(opened):
        if rep is not None and rep.failed:
            _save_artefacts(f"{request.node.name}-{n}", pg, console, errors)
        browser.close()
    for _browser, _ctx, _pg, console, _errors in opened:
        fail_on_csp_violations(request.node.name, console)


MicPageFactory = Callable[..., Page]


def _save_artefacts(name: str, pg: Page, console: list[str], errors: list[str]) -> None:
    out = RESULTS / name
    out.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(Exception):
        pg.screenshot(path=str(out / "screenshot.png"), full_page=True)
    (out / "console.log").write_text("\n".join(console) + "\n\nPAGE ERRORS:\n" + "\n".join(errors))
    (out / "url.txt").write_text(pg.url)
    sys.stderr.write(f"\n[e2e] artefacts saved in {out}\nconsole:\n" + "\n".join(console[-30:]) + "\n")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def context(browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    pg = context.new_page()
    console, errors = watch_page(pg)
    yield pg
    rep = getattr(request.node, "rep_call", None)
    failed = rep is not None and rep.failed
    if failed or csp_violations(console):
        _save_artefacts(request.node.name, pg, console, errors)
    pg.close()
    fail_on_csp_violations(request.node.name, console)
