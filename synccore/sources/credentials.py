"""Google credentials from the settings: a service account (file or dict), an API key, or
Application Default Credentials, in that order.

Errors name the setting to fix and never quote the key material.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from ..errors import CredentialsMissing

# Drive metadata lets a sync ask only when the sheet was last modified (see sources/drive.py);
# credentials without it are refused that one request and the sync reads everything.
READ_SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
)

HOW_TO_CONFIGURE = (
    "Set GOOGLE_APPLICATION_CREDENTIALS to a service account key file (or put the key under "
    "[gcp_service_account] in .streamlit/secrets.toml), or set SYNCCORE_GOOGLE_API_KEY for a "
    "sheet shared as 'Anyone with the link'."
)


@dataclass(frozen=True)
class GoogleIdentity:
    """Credentials plus what a user needs to hear about them (never the secret itself)."""

    credentials: object
    kind: str  # "service account" | "API key" | "application default credentials"
    email: str | None = None  # the address to share the sheet with, when there is one


def google_identity(settings: Settings) -> GoogleIdentity:
    if settings.credentials_info is not None:
        return _service_account(settings.credentials_info, "the [gcp_service_account] secret")
    if settings.credentials_file:
        return _service_account_file(settings.credentials_file)
    if settings.api_key:
        from google.auth import api_key

        return GoogleIdentity(api_key.Credentials(settings.api_key), "API key")
    return _application_default()


def _service_account(info, where: str) -> GoogleIdentity:
    from google.oauth2 import service_account

    if not isinstance(info, dict) or info.get("type", "service_account") != "service_account":
        raise CredentialsMissing(
            f"The credentials in {where} are not a service account key. Create a key for a "
            "service account in the Google Cloud console (IAM > Service accounts > Keys > Add "
            "key > JSON) and use that file."
        )
    try:
        credentials = service_account.Credentials.from_service_account_info(
            info, scopes=READ_SCOPES
        )
    except (ValueError, KeyError, TypeError):
        raise CredentialsMissing(
            f"The service account key in {where} is incomplete or damaged (it needs "
            "client_email, private_key and token_uri). Download a new JSON key for the service "
            "account and use it unchanged."
        ) from None
    return GoogleIdentity(credentials, "service account", credentials.service_account_email)


def _service_account_file(path: str) -> GoogleIdentity:
    import json

    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except FileNotFoundError:
        raise CredentialsMissing(
            f"GOOGLE_APPLICATION_CREDENTIALS points to {path}, which does not exist. "
            + HOW_TO_CONFIGURE
        ) from None
    except OSError as exc:
        raise CredentialsMissing(
            f"The service account key file {path} cannot be read ({exc.strerror}). Check its "
            "permissions."
        ) from None
    except ValueError:
        raise CredentialsMissing(
            f"The service account key file {path} is not valid JSON. Download a new JSON key "
            "for the service account and use it unchanged."
        ) from None
    return _service_account(info, f"the key file {path}")


def _application_default() -> GoogleIdentity:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=READ_SCOPES)
    except DefaultCredentialsError:
        raise CredentialsMissing(
            "No Google credentials are configured, so the sheet cannot be read. " + HOW_TO_CONFIGURE
        ) from None
    email = getattr(credentials, "service_account_email", None)
    return GoogleIdentity(credentials, "application default credentials", email)
