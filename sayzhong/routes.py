"""Route constants and URL builders shared by pages, states, e-mails and HTTP routes."""

from __future__ import annotations

from urllib.parse import urlencode

LANDING = "/"
SIGN_UP = "/signup"
SIGN_IN = "/signin"
FORGOT_PASSWORD = "/forgot-password"
RESET_PASSWORD = "/reset-password"
VERIFY_EMAIL = "/verify-email"
TWO_FACTOR = "/account/two-factor"
HOME = "/home"
ACCOUNT = "/account"
LEARN = "/learn"
PRACTICE = "/practice"
DIALOGUE = "/dialogue"
REVIEW = "/review"
ONBOARDING = "/onboarding"
FORBIDDEN = "/forbidden"
ADMIN = "/admin"
ADMIN_USERS = "/admin/users"
ADMIN_USER = "/admin/user"  # one learner's support page: ?id=<user id> (issue 10)
ADMIN_OUTBOX = "/admin/outbox"
ADMIN_AUDIT = "/admin/audit"
# Support centre (issue 13)
HELP = "/help"
HELP_ARTICLE = "/help/[slug]"
SUPPORT = "/support"
SUPPORT_NEW = "/support/new"
SUPPORT_RATE = "/support/rate"
SUPPORT_CHAT = "/support/chat"
STAFF_CHAT = "/admin/support/chat"
STAFF_INBOX = "/admin/support"
STAFF_TICKET = "/admin/support/ticket"
STAFF_HELP_ARTICLES = "/admin/help"
STAFF_SUPPORT_ANALYSIS = "/admin/support/analysis"
STAFF_SCORING_FEEDBACK = "/admin/support/scoring"
SUPPORT_ATTACHMENT = "/support/attachments/{attachment_id:int}"
# Billing (issue 12)
PRICING = "/pricing"
BILLING = "/billing"
ADMIN_BILLING = "/admin/billing"
# Experiments (issue 14)
ADMIN_EXPERIMENTS = "/admin/experiments"
ADMIN_EXPERIMENT_RESULTS = "/admin/experiments/results"  # ?key=<experiment key>

# Legal and privacy (issue 11)
LEGAL = "/legal"
LEGAL_ACCEPT = "/legal/accept"
ACCOUNT_DELETION = "/account/deletion"
CANCEL_DELETION = "/privacy/cancel-deletion"
COOKIE_SETTINGS = "/privacy/cookies"
DO_NOT_SELL = "/privacy/do-not-sell"
ADMIN_PRIVACY = "/admin/privacy"
ADMIN_JOBS = "/admin/jobs"
ANALYTICS_CAPTURE = "/analytics/capture"
# Issue 14: attribution, funnels, marketing tags, campaign links
ATTRIBUTION_TOUCH = "/visit/source"
ADMIN_FUNNELS = "/admin/funnels"
ADMIN_CAMPAIGN_LINKS = "/admin/campaign-links"
ADMIN_MARKETING_TAGS = "/admin/marketing-tags"
EXPORT_DOWNLOAD = "/privacy/export/download"
# Reminders and e-mail preferences (issue 14)
ACCOUNT_EMAIL = "/account/email"
EMAIL_PREFERENCES = "/email/preferences"  # tokenised: ?token=<signed link from an e-mail>
EMAIL_UNSUBSCRIBE = "/email/unsubscribe/{token}"  # server route: one-click POST (RFC 8058)
EMAIL_EVENTS = "/email/events"  # server route: bounce/complaint webhook


def email_unsubscribe_path(token: str) -> str:
    return EMAIL_UNSUBSCRIBE.replace("{token}", token)


# Business intelligence (issue 15)
BI_OVERVIEW = "/admin/bi"
BI_ACQUISITION = "/admin/bi/acquisition"
BI_RETENTION = "/admin/bi/retention"
BI_LEARNING = "/admin/bi/learning"
BI_REVENUE = "/admin/bi/revenue"
BI_REPORTS = "/admin/bi/reports"
BI_EXPORT = "/staff/bi/export.csv"

# Referrals and share cards (issue 14): the invite page, staff list, and server routes
INVITE = "/invite"
ADMIN_REFERRALS = "/admin/referrals"
ADMIN_EMAIL = "/admin/email"  # suppression list and product-news campaigns (staff)
REFERRAL_LINK = "/r/{code}"
SHARE_PAGE = "/s/{slug}"
SHARE_IMAGE = "/s/{slug}/card.png"
SHARE_JOIN = "/s/{slug}/join"


def referral_path(code: str) -> str:
    return REFERRAL_LINK.replace("{code}", code)


def share_path(slug: str) -> str:
    return SHARE_PAGE.replace("{slug}", slug)


def share_image_path(slug: str) -> str:
    return SHARE_IMAGE.replace("{slug}", slug)


def share_join_path(slug: str) -> str:
    return SHARE_JOIN.replace("{slug}", slug)


def legal_url(doc: str, version: int | None = None) -> str:
    return f"{LEGAL}/{doc}" if version is None else f"{LEGAL}/{doc}/v/{version}"


# Server routes (Starlette, see sayzhong/http/app.py)
HEALTHZ = "/healthz"
READYZ = "/readyz"
AUTH_SESSION = "/auth/session"
AUTH_SIGN_OUT = "/auth/sign-out"
AUTH_OIDC_START = "/auth/oidc/start"
AUTH_OIDC_CALLBACK = "/auth/oidc/callback"
STRIPE_WEBHOOK = "/billing/stripe-webhook"

PUBLIC_PAGES = frozenset(
    {LANDING, SIGN_UP, SIGN_IN, FORGOT_PASSWORD, RESET_PASSWORD, VERIFY_EMAIL, FORBIDDEN, PRICING}
)


def safe_next(path: str | None, default: str = HOME) -> str:
    """Only same-site absolute paths may be used as a post-login destination (no open redirects)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    return path


def sign_in_url(next_path: str | None = None) -> str:
    if not next_path or next_path == HOME:
        return SIGN_IN
    return f"{SIGN_IN}?{urlencode({'next': safe_next(next_path)})}"


def admin_user_url(user_id: int | str) -> str:
    return f"{ADMIN_USER}?{urlencode({'id': str(user_id)})}"


def help_article_url(slug: str) -> str:
    return f"{HELP}/{slug}"


def reset_password_url(app_url: str, token: str) -> str:
    return f"{app_url.rstrip('/')}{RESET_PASSWORD}?{urlencode({'token': token})}"


def verify_email_url(app_url: str, token: str) -> str:
    return f"{app_url.rstrip('/')}{VERIFY_EMAIL}?{urlencode({'token': token})}"
