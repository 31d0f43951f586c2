"""Sign-in throttling: attempts counted per account and failures per client address.

Built on ``limits`` (the engine behind slowapi) with moving windows, in the storage the
settings name: ``memory://`` for one process, ``redis://`` when several API processes must
share the counts (distributed mode).

Why these counts:
- per account (the normalised e-mail, hashed: no address is kept in the storage), every
  attempt is counted atomically BEFORE the password is checked, so parallel guesses cannot
  slip past the limit; a successful sign-in then clears the account's count: only someone who
  knows the password can do that, and a user's earlier typos do not lock them out;
- per client address, only failures are counted: a préfecture's agents behind one address
  sign in all morning, and a success never refunds an address (an attacker holding one valid
  account cannot reset the budget of the address they guess from).
An unknown or deactivated account is counted exactly like a known one: the 429 tells nothing.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from accelerator.shared.errors import TooManyRequests, Unavailable
from accelerator.shared.text import t, t_template

MESSAGE = t_template("identity.sign_in_throttled")
_NAMESPACE = "accelerator-sign-in"


def parse_rates(text: str) -> list[RateLimitItem]:
    """Rates such as ``"5/minute;20/hour"``; ``ValueError`` if unreadable."""
    return list(parse_many(text))


@dataclass
class SignInThrottle:
    """The sign-in budgets of one deployment (one storage shared by its API processes)."""

    limiter: MovingWindowRateLimiter
    per_account: Sequence[RateLimitItem]
    per_address: Sequence[RateLimitItem]

    @classmethod
    def create(cls, *, per_account: str, per_address: str, storage: str) -> SignInThrottle:
        """A throttle with these rates, counting in the storage at URI ``storage``."""
        return cls(
            limiter=MovingWindowRateLimiter(storage_from_string(storage, wrap_exceptions=True)),
            per_account=parse_rates(per_account),
            per_address=parse_rates(per_address),
        )

    def attempt(self, *, email: str, address: str) -> None:
        """Count one sign-in attempt for ``email`` from ``address``, before any password is
        checked; ``TooManyRequests`` (with the seconds to wait) when a budget is spent."""
        account, peer = _account_key(email), ("address", address)
        try:
            for item in self.per_address:
                if not self.limiter.test(item, _NAMESPACE, *peer):
                    raise self._refusal(item, peer)
            for item in self.per_account:
                if not self.limiter.hit(item, _NAMESPACE, *account):
                    raise self._refusal(item, account)
        except StorageError as error:
            raise _unavailable() from error

    def check_address(self, *, address: str) -> None:
        """Refuse (``TooManyRequests``) a sign-in from ``address`` once its failures spent its
        budget, counting nothing: a ProConnect callback, whose account is known only after
        the provider vouched for it (its failures are counted by ``failed``)."""
        peer = ("address", address)
        try:
            for item in self.per_address:
                if not self.limiter.test(item, _NAMESPACE, *peer):
                    raise self._refusal(item, peer)
        except StorageError as error:
            raise _unavailable() from error

    def failed(self, *, address: str) -> None:
        """Count a failed sign-in against ``address`` (the account's was counted already)."""
        try:
            for item in self.per_address:
                self.limiter.hit(item, _NAMESPACE, "address", address)
        except StorageError as error:
            raise _unavailable() from error

    def succeeded(self, *, email: str) -> None:
        """Clear the account's count: only its password holder gets here."""
        try:
            for item in self.per_account:
                self.limiter.clear(item, _NAMESPACE, *_account_key(email))
        except StorageError as error:
            raise _unavailable() from error

    def _refusal(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> TooManyRequests:
        reset = self.limiter.get_window_stats(item, _NAMESPACE, *identifiers).reset_time
        seconds = max(1, math.ceil(reset - time.time()))
        return TooManyRequests(MESSAGE.format(seconds=seconds), retry_after=seconds)


def _account_key(email: str) -> tuple[str, str]:
    return "account", hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]


def _unavailable() -> Unavailable:
    return Unavailable(t("identity.sign_in_unavailable"))
