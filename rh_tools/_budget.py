"""Spending limits for the agent tools, checked before a paid call is submitted.

Three optional maximums, in the account's currency: per call (the price preview of this call), per
session (what this toolkit or server has spent) and per day (since local midnight). Each is set by
argument, else by ``RUNNINGHUB_MAX_COST_PER_CALL`` / ``…_PER_SESSION`` / ``…_PER_DAY``, else off.

A paid model run is priced first (``price-preview``, which creates no task). Its estimate is
reserved before the submit, so calls running at once cannot jointly pass a limit, and replaced by
the cost the finished task reports. A submit that provably created no task releases its
reservation; a task that was created keeps it (it may be charged even if it fails).

Workflows and AI apps have no price preview: with a per-call maximum set they are refused (their
price cannot be checked); under session or day limits alone they run while money is left, and
their reported cost is counted afterwards.

The per-day total is shared through ``spent_since`` when it is given: a function from a moment
(UNIX time) to what was spent since then by every process. The agent surfaces (LangChain toolkit,
rh-mcp) bind it to their client's task journal (``Journal.costs_since``) when the journal is on, so
sessions and processes on one machine share the day's total; with the journal off, the total is this
process's own ledger. The seam knows no backend (SQLite or Redis: whatever ``Journal`` reads). It
answers either

- the reported cost of each task, by task id (what ``Journal.costs_since`` gives): merged exactly
  with this process's ledger, where a task counts once (its reported cost once the journal has one,
  else this process's reservation or estimate for it); or
- one number: the money spent since then; this process's calls that are still unsettled are added
  (their cost cannot be in that number yet); or
- None: not known now (journal unreadable): this process's own ledger counts alone.

What the day total cannot see: a task another process is still running counts once its cost is
reported (before, only that process holds its reservation), and two processes admitting a call at
the very same moment may both fit under the limit. A per-day limit across processes is therefore a
limit on reported spend plus this process's own calls in flight.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ._constants import ENV_PREFIX
from ._exceptions import BudgetError, ConfigurationError
from ._money import default_currency, format_money

__all__ = ["Budget", "Charge", "SpendJournal", "SpentSince"]

SpentSince = Callable[[float], Mapping[str, float] | float | None]


class SpendJournal(Protocol):
    """What :meth:`Budget.read_day_from` needs of a task journal (``rh_tools.journal.Journal``)."""

    enabled: bool

    def costs_since(self, since: float) -> Mapping[str, float] | None: ...


_LIMITS = {"per_call": "MAX_COST_PER_CALL", "per_session": "MAX_COST_PER_SESSION", "per_day": "MAX_COST_PER_DAY"}


@dataclass
class Charge:
    """One admitted paid call: what it is expected to cost, then what it did cost."""

    what: str
    amount: float
    at: float
    settled: bool = False
    task_id: str | None = None  # once the call created a task: the journal's record of it may carry its cost


def _limit(name: str, explicit: float | None, env: Mapping[str, str]) -> float | None:
    if explicit is not None:
        value: float | None = float(explicit)
    else:
        raw = (env.get(ENV_PREFIX + _LIMITS[name]) or "").strip()
        try:
            value = float(raw) if raw else None
        except ValueError:
            raise ConfigurationError(f"{ENV_PREFIX}{_LIMITS[name]}={raw!r} is not a number") from None
    if value is not None and not value >= 0:
        raise ConfigurationError(f"the {name.replace('_', '-')} spending limit must be a number >= 0, not {value}")
    return value


@dataclass
class Budget:
    """Spending limits shared by every tool of one toolkit or server (see the module docstring), and
    the currency the account last reported, which every amount those tools show is labelled with."""

    per_call: float | None = None
    per_session: float | None = None
    per_day: float | None = None
    spent_since: SpentSince | None = None
    clock: Callable[[], float] = time.time
    currency: str | None = None

    def __post_init__(self) -> None:
        # Plain attributes, not dataclass fields: the ledger and its lock are no setting.
        self._ledger: list[Charge] = []
        self._lock = threading.Lock()

    @classmethod
    def resolve(
        cls,
        per_call: float | None = None,
        per_session: float | None = None,
        per_day: float | None = None,
        *,
        spent_since: SpentSince | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Budget:
        """Limits from arguments, else ``RUNNINGHUB_MAX_COST_*``, else none (an inactive budget)."""
        env = os.environ if env is None else env
        return cls(
            per_call=_limit("per_call", per_call, env),
            per_session=_limit("per_session", per_session, env),
            per_day=_limit("per_day", per_day, env),
            spent_since=spent_since,
        )

    def read_day_from(self, journal: SpendJournal | None) -> None:
        """Take the per-day total from ``journal`` (shared by every process that writes it), unless a
        ``spent_since`` was given or the journal is off (then this process's own ledger counts)."""
        if self.spent_since is None and journal is not None and journal.enabled:
            self.spent_since = journal.costs_since

    @property
    def money_currency(self) -> str:
        return self.currency or default_currency()

    def learn_currency(self, currency: str | None) -> None:
        """Remember the currency an answer named (account status, price preview)."""
        if isinstance(currency, str) and currency.strip():
            self.currency = currency.strip().upper()

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.per_call, self.per_session, self.per_day))

    # -- what has been spent --------------------------------------------------------------------

    def session_spent(self) -> float:
        with self._lock:
            return sum(c.amount for c in self._ledger)

    def day_spent(self) -> float:
        """Spent since local midnight: the shared total (``spent_since``) merged with this process's
        ledger (see the module docstring), else the ledger alone."""
        midnight = datetime.fromtimestamp(self.clock()).replace(hour=0, minute=0, second=0, microsecond=0)
        since = midnight.timestamp()
        shared = self.spent_since(since) if self.spent_since is not None else None
        with self._lock:
            today = [c for c in self._ledger if c.at >= since]
        if shared is None:
            return sum(c.amount for c in today)
        if isinstance(shared, Mapping):
            # A task the journal has a cost for counts at that cost; every other charge at its own amount.
            return sum(shared.values()) + sum(c.amount for c in today if c.task_id not in shared)
        return float(shared) + sum(c.amount for c in today if not c.settled)

    # -- before and after a paid call -----------------------------------------------------------

    def admit(self, what: str, price: float | None, currency: str) -> Charge:
        """Reserve ``price`` for ``what`` or raise :class:`BudgetError` saying which limit it would pass."""

        def money(v: float) -> str:
            return format_money(v, currency)

        day = self.day_spent() if self.per_day is not None else 0.0
        with self._lock:
            session = sum(c.amount for c in self._ledger)
            if price is None:
                if self.per_call is not None:
                    raise BudgetError(
                        f"{what} has no price preview, so it cannot be held to the per-call maximum of "
                        f"{money(self.per_call)}",
                        hint="Nothing was submitted. Run it without a per-call maximum (session and day limits "
                        "still apply), or use a model that price_model can price.",
                    )
                expected = 0.0
            else:
                expected = price
            checks = (
                (self.per_call, expected, "per-call maximum", f"it would cost about {money(expected)}"),
                (self.per_session, session + expected, "session maximum", f"{money(session)} spent so far"),
                (self.per_day, day + expected, "daily maximum", f"{money(day)} spent today"),
            )
            for limit, total, name, why in checks:
                if limit is not None and (total > limit + 1e-9 or (price is None and total >= limit)):
                    cost = f"about {money(expected)}" if price is not None else "an unknown amount"
                    raise BudgetError(f"{what} would cost {cost}: over the {name} of {money(limit)} ({why})")
            charge = Charge(what, expected, self.clock())
            self._ledger.append(charge)
            return charge

    def created(self, charge: Charge, task_id: str | None) -> None:
        """The call behind ``charge`` created this task (known as soon as the submit answers)."""
        if task_id:
            with self._lock:
                charge.task_id = task_id

    def settle(self, charge: Charge, actual: float | None, task_id: str | None = None) -> None:
        """Replace the reservation by the cost the finished task reported (if it reported one).
        ``task_id``: the task the call created, so that a shared total which already counts it (the
        journal's cost of that task) is not added to it twice."""
        with self._lock:
            if actual is not None:
                charge.amount = actual
            charge.task_id = task_id or charge.task_id
            charge.settled = True

    def release(self, charge: Charge) -> None:
        """The submit provably created no task: nothing was spent."""
        with self._lock:
            charge.amount = 0.0
            charge.settled = True

    def status(self, currency: str) -> str:
        """One line for agents: the limits and what is left of them."""

        def money(v: float) -> str:
            return format_money(v, currency)

        parts = []
        if self.per_call is not None:
            parts.append(f"at most {money(self.per_call)} per call")
        if self.per_session is not None:
            parts.append(f"{money(self.session_spent())} of {money(self.per_session)} spent this session")
        if self.per_day is not None:
            parts.append(f"{money(self.day_spent())} of {money(self.per_day)} spent today")
        return "Spending limits: " + "; ".join(parts) + "." if parts else "No spending limits set."
