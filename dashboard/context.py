"""What every page needs first: the settings, the one CatalogSync per process, and who is looking.

Settings come from `st.secrets` (a missing secrets file counts as empty) merged over the
environment by `synccore.config.load_settings`. A broken configuration is shown as a message on
the page, never as a traceback, and messages never carry a secret.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from synccore.config import Settings, load_settings
from synccore.db import database_failure
from synccore.errors import ConfigurationError, SyncError
from synccore.service import CatalogSync

from .text import plain


@dataclass(frozen=True)
class Dashboard:
    """What a page renders from: settings, the service, and the viewer."""

    settings: Settings
    sync: CatalogSync
    viewer: Viewer


@dataclass(frozen=True)
class Viewer:
    """The person looking at the page and what they may do."""

    name: str  # recorded as `triggered_by` / `requested_by`
    email: str | None
    auth_configured: bool
    logged_in: bool
    can_sync: bool
    read_only_reason: str | None  # shown when can_sync is False


# -- access -------------------------------------------------------------------------------------


def may_sync(
    auth_configured: bool,
    logged_in: bool,
    email: str | None,
    allowed: Iterable[str],
    *,
    email_verified: bool,
) -> bool:
    """Who may start and cancel syncs.

    Without a login configured (local use) anyone may. With one, only a signed-in user whose
    email the sign-in provider has verified and which is in the allowed list
    (case-insensitive): an unverified address is only a claim (some providers let anyone set
    any address). An empty list allows no one (fail closed).
    """
    return (
        read_only_reason(auth_configured, logged_in, email, allowed, email_verified=email_verified)
        is None
    )


def read_only_reason(
    auth_configured: bool,
    logged_in: bool,
    email: str | None,
    allowed: Iterable[str],
    *,
    email_verified: bool,
) -> str | None:
    """Why the viewer may only watch, written for them; None when they may sync."""
    if not auth_configured:
        return None
    if not logged_in:
        return (
            "Sign in to start or cancel a sync. You can follow the sync status without signing in."
        )
    if not email:
        return (
            "Your sign-in did not share an email address, so this dashboard cannot check "
            "whether you may sync. You can follow the sync status read-only."
        )
    if not email_verified:
        return (
            f"You are signed in as {email}, but your email address is not verified with the "
            "sign-in provider, so it cannot be checked against SYNCCORE_ALLOWED_USERS. Verify "
            "it with the provider and sign in again; until then you can follow the sync "
            "status read-only."
        )
    allowed_keys = {a.strip().casefold() for a in allowed if a.strip()}
    if not allowed_keys:
        return (
            "Syncing is limited to the people listed in SYNCCORE_ALLOWED_USERS, and the list "
            "is empty. Ask the administrator to add your email address."
        )
    if email.strip().casefold() in allowed_keys:
        return None
    return (
        f"You are signed in as {email}, which is not in SYNCCORE_ALLOWED_USERS, so you can "
        "follow the sync status but not start or cancel a sync. Ask the administrator to "
        "add your address."
    )


def claim_is_true(value: Any) -> bool:
    """An OpenID Connect boolean claim: true, or the string "true" some providers send."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def local_user_name() -> str:
    """Who triggered a sync when the dashboard has no login: the OS user running Streamlit."""
    try:
        return f"{getpass.getuser()} (dashboard)"
    except Exception:  # noqa: BLE001 - no user database entry (containers): a fallback name
        return "local user"


def current_viewer(settings: Settings, secrets: Mapping[str, Any]) -> Viewer:
    auth_configured = bool(secrets.get("auth"))
    logged_in, email, name, verified = False, None, None, False
    if auth_configured:
        user = st.user
        logged_in = bool(user.get("is_logged_in"))
        if logged_in:
            email = _str_or_none(user.get("email"))
            name = email or _str_or_none(user.get("name"))
            verified = claim_is_true(user.get("email_verified"))
    reason = read_only_reason(
        auth_configured, logged_in, email, settings.allowed_users, email_verified=verified
    )
    return Viewer(
        name=name or local_user_name(),
        email=email,
        auth_configured=auth_configured,
        logged_in=logged_in,
        can_sync=reason is None,
        read_only_reason=reason,
    )


def viewer_now() -> Viewer:
    """Who is pressing a button and what they may do, decided at the click: a button callback
    calls this instead of trusting the run that drew the button, so a user removed from the
    allowlist (or signed out) since then is refused. Raises SyncError on broken settings."""
    secrets = read_secrets()
    return current_viewer(load_settings(secrets), secrets)


def _str_or_none(value: Any) -> str | None:
    return str(value).strip() or None if isinstance(value, str) else None


# -- settings and the service ----------------------------------------------------------------


def read_secrets() -> dict[str, Any]:
    """`st.secrets` as plain dicts; no secrets file means no secrets (env vars still apply)."""
    try:
        return _plain(st.secrets.to_dict())
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError subclasses it
        if getattr(exc, "error_id", None) in (None, "no-secrets-found"):
            return {}
        raise ConfigurationError(_secrets_problem(exc)) from None


def _secrets_problem(exc: Exception) -> str:
    """Say what is wrong with the secrets file without quoting it (it holds secrets)."""
    where = re.search(r"\(at line \d+, column \d+\)", str(exc))
    position = f" {where.group(0)}" if where else ""
    return (
        "The secrets file (.streamlit/secrets.toml) could not be read: it is not valid "
        f"TOML{position}. Fix it (see .streamlit/secrets.toml.example) and reload the page."
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def settings_fingerprint(settings: Settings) -> str:
    """A cache key covering every setting, secrets included, without exposing any."""
    blob = json.dumps(asdict(settings), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@st.cache_resource(show_spinner="Opening the catalog database...", max_entries=8)
def _catalog_sync(fingerprint: str, _settings: Settings) -> CatalogSync:
    """One CatalogSync (engine, pool, migrations) per process and configuration."""
    return CatalogSync(_settings)


def open_dashboard() -> Dashboard:
    """Settings, service and viewer; on a configuration problem, say so and stop the page."""
    with problems_shown(database_title="The catalog database cannot be opened"):
        secrets = read_secrets()
        settings = load_settings(secrets)
        sync = _catalog_sync(settings_fingerprint(settings), settings)
    return Dashboard(settings, sync, current_viewer(settings, secrets))


@contextmanager
def problems_shown(
    database_title: str = "The catalog database cannot be reached",
) -> Iterator[None]:
    """Run page code that talks to the database; a failure becomes a message and stops the page
    (no traceback: the exception text can quote the database URL)."""
    try:
        yield
    except SyncError as exc:
        show_problem("Catalog Sync is not configured correctly", str(exc))
        st.stop()
    except SQLAlchemyError as exc:
        show_problem(database_title, database_problem(exc))
        st.stop()
    except OSError as exc:  # e.g. a SQLite folder that cannot be created
        show_problem(database_title, file_problem(exc))
        st.stop()


def database_problem(exc: SQLAlchemyError) -> str:
    """A database failure for the reader, worded as the command line words it (for SQLite the
    file or folder in the way; never a password)."""
    try:
        settings = load_settings(read_secrets())
    except SyncError:
        return (
            f"The database did not answer as expected ({type(exc).__name__}). Check "
            "SYNCCORE_DATABASE_URL, then reload the page."
        )
    return f"{database_failure(exc, settings)} Then reload the page."


def file_problem(exc: OSError) -> str:
    return (
        f"A file the catalog needs cannot be used ({exc.strerror or type(exc).__name__}). "
        "Check the path in SYNCCORE_DATABASE_URL and that its folder is writable, then "
        "reload the page."
    )


def show_problem(title: str, detail: str) -> None:
    st.error(f"**{plain(title)}**\n\n{plain(detail)}", icon=":material/error:")


def render_account(viewer: Viewer, secrets_auth: Mapping[str, Any] | None = None) -> None:
    """Sign-in controls when a login is configured, and the read-only note when it applies."""
    if viewer.auth_configured:
        if viewer.logged_in:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.caption(f"Signed in as {plain(viewer.name)}")
            right.button("Log out", on_click=st.logout, key="logout")
        elif st.button("Log in", icon=":material/login:", key="login"):
            try:
                st.login()
            except Exception as exc:  # noqa: BLE001 - no authlib, or an incomplete [auth] section
                show_problem("Sign-in is not available", _login_problem(exc))
    if viewer.read_only_reason:
        st.info(plain(viewer.read_only_reason), icon=":material/visibility:")


def _login_problem(exc: Exception) -> str:
    if "authlib" in str(exc).lower():
        return (
            "Streamlit's login needs the Authlib package: install streamlit[auth] "
            "(or Authlib>=1.3.2) on the server."
        )
    return (
        "The [auth] section in .streamlit/secrets.toml is incomplete: it needs redirect_uri, "
        "cookie_secret, client_id, client_secret and server_metadata_url "
        "(see .streamlit/secrets.toml.example)."
    )
