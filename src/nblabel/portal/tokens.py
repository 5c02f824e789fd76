"""Who may answer through the portal: one secret link per annotator, kept hashed in the store.

A token is ``secrets.token_urlsafe(32)`` (256 random bits). The store keeps only its SHA-256, in
the job store's ``meta`` table under ``portal:<attribute>:<annotator>``, so a copy of the store
(or a PostgreSQL reader) cannot rebuild anyone's link. A plain hash is enough: a slow,
salted hash (PBKDF2) protects guessable passwords, and 256 random bits are not guessable.

Every check reads the store, so a revocation made by any process (the owner's notebook, the
command line) ends access on the annotator's next page load or widget message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from nblabel.store import Store

__all__ = ["REVOKED", "Tokens", "check_annotator"]

#: What the store holds for a revoked annotator (their answers stay).
REVOKED = "revoked"
# Annotator names travel in links and name answers: letters, digits and . _ @ - (JupyterHub's
# user names and e-mail addresses fit).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def check_annotator(name: object) -> str:
    """The annotator name, or ``ValueError`` when it cannot be one (1-64 letters, digits, ``._@-``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"annotator name {name!r} must be 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    return name


def _digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The portal's access list for one attribute of a job's store.

    Parameters
    ----------
    store
        The job's store (its ``get_meta`` / ``set_meta``).
    attribute
        The job's label attribute: one store may hold several jobs, each with its own list.
    """

    def __init__(self, store: Store, attribute: str) -> None:
        self.store = store
        self.attribute = attribute

    def _key(self, name: str) -> str:
        return f"portal:{self.attribute}:{check_annotator(name)}"

    def issue(self, name: str) -> str:
        """A new secret token for ``name``; the previous one (or a revocation) stops counting."""
        token = secrets.token_urlsafe(32)
        self.store.set_meta(self._key(name), _digest(token))
        return token

    def revoke(self, name: str) -> None:
        """End ``name``'s access; their answers stay in the store."""
        self.store.set_meta(self._key(name), REVOKED)

    def granted(self, name: str) -> bool:
        """Whether ``name`` holds a token that is not revoked (the JupyterHub check: the Hub
        vouches for the person, the store for their access)."""
        stored = self.store.get_meta(self._key(name))
        return stored is not None and stored != REVOKED

    def valid(self, name: object, token: object) -> bool:
        """Whether ``token`` is ``name``'s current token (compared in constant time)."""
        if not isinstance(token, str) or not token or not isinstance(name, str) or not _NAME.fullmatch(name):
            return False
        stored = self.store.get_meta(self._key(name))
        return stored is not None and hmac.compare_digest(stored, _digest(token))
