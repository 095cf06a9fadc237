"""Errors a sync can meet, each carrying a message written for the person who reads it.

Two families: `TransientSourceError` is worth retrying (rate limits, 5xx, timeouts); every
other `SyncError` is terminal and its `str()` tells the user what to do. Messages never
contain secrets (keys, tokens, passwords): callers pass only what is safe to show.
"""

from __future__ import annotations

from datetime import datetime


class SyncError(Exception):
    """Base of every error synccore raises on purpose; `str(e)` is the user-facing message.

    `headline` is the one sentence a status line shows ("Sync failed: <headline>"). A raise
    site whose message quotes sheet text (which can hold ". ") says it explicitly; otherwise
    it is the message's first sentence.
    """

    def __init__(self, message: str = "", *, headline: str | None = None):
        super().__init__(message)
        self._headline = headline

    @property
    def headline(self) -> str:
        return getattr(self, "_headline", None) or first_sentence(str(self))


def first_sentence(text: str) -> str:
    """Text up to its first ". " outside double quotes, ending with one period; a quoted name
    such as "Vol. 2" does not end the sentence."""
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "." and not quoted and text[index + 1 : index + 2] in (" ", "\n"):
            return text[:index].rstrip(".") + "."
    return text.rstrip(".") + "." if text else ""


class ConfigurationError(SyncError):
    """A setting is missing or malformed."""


class SourceError(SyncError):
    """The sheet could not be read; the catalog was not touched."""


class CredentialsMissing(SourceError):
    """No usable Google credentials were configured."""


class CredentialsRejected(SourceError):
    """Google (or its stand-in) refused the credentials or the token."""


class SheetNotShared(SourceError):
    """The sheet exists but the service account may not read it."""

    def __init__(self, message: str, email: str | None = None):
        super().__init__(message)
        self.email = email


class SheetNotFound(SourceError):
    """The URL or key names no spreadsheet."""


class WorksheetNotFound(SourceError):
    """The spreadsheet has no worksheet with the configured name or gid."""


class HeaderNotFound(SourceError):
    """No row of the sheet looks like the album header (Artist, Album, ...)."""


class MalformedResponse(SourceError):
    """The Sheets API answered with something that is not what the API documents."""


class ResponseTooLarge(SourceError):
    """An answer was bigger than the size cap; reading stopped there (never retried)."""


class RedirectRefused(SourceError):
    """The API or token endpoint answered a redirect; it was not followed, so no credentials
    went to another address."""


class TransientSourceError(SourceError):
    """A failure worth retrying: rate limit, server error, timeout, connection reset.

    `kind` says what it becomes when retries run out: "rate_limit" (QuotaExceeded), "server"
    (Google kept failing), "broken" (MalformedResponse) or "network" (NetworkUnreachable).
    """

    def __init__(self, message: str, retry_after: float | None = None, *, kind: str = "network"):
        super().__init__(message)
        self.retry_after = retry_after
        self.kind = kind


class QuotaExceeded(SourceError):
    """Retries ran out while Google kept answering 429."""


class NetworkUnreachable(SourceError):
    """Retries ran out while the Sheets API could not be reached or kept failing."""


class SyncAlreadyRunning(SyncError):
    """Another sync holds the one active slot."""

    def __init__(self, operation_id: int, triggered_by: str, started_at: datetime):
        when = started_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        super().__init__(f"Sync already in progress (started by {triggered_by} at {when}).")
        self.operation_id = operation_id
        self.triggered_by = triggered_by
        self.started_at = started_at


class RemovalGuardTripped(SyncError):
    """The sync would remove too much of the catalog; nothing was removed."""


class CancelRefused(SyncError):
    """The active sync is finalizing: its removals and result are being recorded, and a
    cancel would not stop them, so none is accepted."""


class SyncCancelled(SyncError):
    """Someone asked the sync to stop; it stopped between batches."""


class SyncInterrupted(SyncError):
    """The process running the sync is shutting down (SIGTERM)."""
