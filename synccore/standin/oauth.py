"""The OAuth2 token endpoint's logic: service-account JWT assertions checked as Google checks
them, and throwaway service-account keys for the demo and tests."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeSheetsServer

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


class GrantRefused(Exception):
    pass


def verify_assertion(assertion: str, public_keys: dict[str, str], token_url: str) -> str:
    """Check a service account's RS256 JWT assertion; return its email (the `iss`)."""
    import jwt

    try:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise GrantRefused("Invalid JWT: malformed assertion.") from None
    email = str(unverified.get("iss") or "")
    pem = public_keys.get(email)
    if not pem:
        raise GrantRefused("Invalid grant: account not found")
    try:
        claims = jwt.decode(
            # google-auth always names Google's own endpoint as the audience, wherever it posts.
            assertion,
            pem,
            algorithms=["RS256"],
            audience=[token_url, GOOGLE_TOKEN_URL],
            leeway=300,
            options={"require": ["iss", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError:
        raise GrantRefused("Invalid JWT Signature.") from None
    except jwt.ExpiredSignatureError:
        raise GrantRefused("Invalid JWT: Token must be a short-lived token.") from None
    except jwt.InvalidAudienceError:
        raise GrantRefused("Invalid JWT: Failed audience check.") from None
    except jwt.PyJWTError as error:
        raise GrantRefused(f"Invalid JWT: {type(error).__name__}.") from None
    if claims["exp"] - claims["iat"] > 3600 + 300:
        raise GrantRefused("Invalid JWT: Token must be a short-lived token (60 minutes).")
    return email


@lru_cache(maxsize=4)
def _rsa_key_pair(slot: int) -> tuple[str, str]:
    """(private PEM, public PEM); one per slot per process, since generation is slow."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def make_service_account(
    server: FakeSheetsServer,
    email: str = "sync@test-project.iam.gserviceaccount.com",
    *,
    key_slot: int = 0,
) -> dict[str, Any]:
    """Register a service account with the fake and return its JSON key file as a dict.

    `key_slot` picks another cached key pair (e.g. 1 for a second, different key).
    """
    private_pem, public_pem = _rsa_key_pair(key_slot)
    server.register_service_account(email, public_pem)
    return {
        "type": "service_account",
        "project_id": email.split("@", 1)[-1].split(".", 1)[0],
        "private_key_id": f"fake-key-{key_slot}",
        "private_key": private_pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": server.token_url,
        "universe_domain": "googleapis.com",
    }


def other_private_key(slot: int = 1) -> str:
    """A private key PEM that no service account registered under slot 0 will accept."""
    return _rsa_key_pair(slot)[0]
