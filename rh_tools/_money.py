"""Money as RunningHub reports it: amounts, the currency they are in, and how a cost reads.

RunningHub answers money as strings in the account's currency: ``remainMoney`` with ``currency``
(account status), ``estimatedPrice`` with ``currency`` (price preview), and ``thirdPartyConsumeMoney``
/ ``consumeMoney`` without one (task usage). Every documented answer says CNY, on both sites
(reference §2.4 price preview, §6 account status, §2 usage "CNY string"), so an amount is labelled
with the currency the account last reported, else ``RUNNINGHUB_CURRENCY``, else CNY. RH coins
(``consumeCoins``, ``remainCoins``) are a separate unit and always say so.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from ._constants import ENV_PREFIX

__all__ = ["DEFAULT_CURRENCY", "amount", "cost_text", "default_currency", "format_money", "usage_cost"]

DEFAULT_CURRENCY = "CNY"


def default_currency(env: Mapping[str, str] | None = None) -> str:
    """The currency to name before the account has reported one (``RUNNINGHUB_CURRENCY``, else CNY)."""
    env = os.environ if env is None else env
    value = (env.get(ENV_PREFIX + "CURRENCY") or "").strip().upper()
    return value or DEFAULT_CURRENCY


def amount(value: Any) -> float | None:
    """A money field as a number (the API sends strings, sometimes numbers, "" or null)."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_money(value: float, currency: str) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") + f" {currency}" if value else f"0 {currency}"


def usage_cost(usage: Any) -> float | None:
    """Money a task cost (API consumption plus runtime), or None if the answer named no money."""
    if usage is None:
        return None
    parts = [amount(usage.third_party_consume_money), amount(usage.consume_money)]
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


def cost_text(usage: Any, currency: str) -> str:
    """'0.14 CNY (API), 3 RH coins': every amount with its unit."""
    if usage is None:
        return "no cost reported"
    said = []
    for value, label in ((usage.third_party_consume_money, "API"), (usage.consume_money, "runtime")):
        number = amount(value)
        if number:
            said.append(f"{format_money(number, currency)} ({label})")
    coins = amount(usage.consume_coins)
    if coins:
        said.append(f"{usage.consume_coins} RH coins")
    return ", ".join(said) or f"0 {currency}"
