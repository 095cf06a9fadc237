"""A scanner for secrets in anything a user or operator can read.

Give it the secrets (a database password, a service account JSON key, an API key, access
tokens) and it finds them, or recognisable pieces of them, in text: whole values, each line of
a PEM private key body, and the key's id. `visible_texts` gathers what a sync leaves readable
(statuses, history, row errors) and `log_texts` what logging captured, tracebacks included.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from synccore import CatalogSync

MIN_FRAGMENT = 12


def _pieces(secret: str) -> list[str]:
    """The secret and, for a PEM key, each base64 line of its body."""
    pieces = [secret]
    if "-----BEGIN" in secret:
        pieces += [
            line.strip()
            for line in secret.splitlines()
            if len(line.strip()) >= MIN_FRAGMENT and "-----" not in line
        ]
    return pieces


@dataclass
class SecretScanner:
    secrets: dict[str, str] = field(default_factory=dict)  # name -> value

    def add(self, name: str, value: str) -> SecretScanner:
        assert len(value) >= 6, f"{name} is too short to scan for reliably"
        self.secrets[name] = value
        return self

    def add_service_account(self, info: Mapping[str, str]) -> SecretScanner:
        self.add("service account private key", info["private_key"])
        if len(info.get("private_key_id", "")) >= 6:
            self.add("service account private key id", info["private_key_id"])
        return self

    def leaks(self, text: str) -> list[str]:
        """Names of the secrets found in `text` (also JSON-escaped, as in --json output)."""
        found = []
        for name, secret in self.secrets.items():
            for piece in _pieces(secret):
                escaped = json.dumps(piece)[1:-1]
                if piece in text or escaped in text:
                    found.append(name)
                    break
        return found

    def assert_clean(self, texts: Iterable[str], where: str) -> None:
        for text in texts:
            leaked = self.leaks(text)
            assert not leaked, f"{', '.join(leaked)} visible in {where}: {text[:300]!r}..."


def visible_texts(sync: CatalogSync) -> list[str]:
    """Everything a sync leaves for users to read: every status, the history, row errors."""
    texts = [json.dumps(h.to_json(), default=str) for h in sync.history(limit=1000)]
    for summary in sync.history(limit=1000):
        status = sync.operation(summary.operation_id)
        texts.append(json.dumps(status.to_json(), default=str))
        texts += [json.dumps(e.to_json()) for e in sync.row_errors(summary.operation_id)]
    current = sync.current_status()
    if current is not None:
        texts.append(json.dumps(current.to_json(), default=str))
    texts.append(sync.settings.describe_database())
    texts.append(sync.settings.describe_sheet())
    texts.append(repr(sync.settings))
    return texts


def log_texts(records: Iterable[logging.LogRecord]) -> list[str]:
    """Each record as a handler would write it, traceback and all."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    texts = []
    for record in records:
        texts.append(formatter.format(record))
        texts.append(repr(record.args))
    return texts
