"""How well ``search_models`` finds a right model for the words people and LLMs type (issue 13).

``python benchmarks/bench_search.py [--split tune|holdout|all] [--show-misses] [--scorer ours|bm25]``

The queries and their right answers are data: ``tests/data/search_eval.json`` (>= 100 queries over
every task family, split into the part the scorer was tuned on and a held-out part it never was).
A query is a *hit at k* when one of the first k results is right. Printed: top-1/top-3 hit rates
and mean precision at 3, overall, per split and per family, plus the query latency. The same code
runs in ``tests/test_search.py`` (which asserts the top-3 rate), so the figure here is the tested one.

``--scorer bm25`` ranks with ``rank_bm25.BM25Okapi`` over the same fields and vocabulary expansion
instead of our scorer, for the comparison the issue asks for (``pip install rank-bm25`` first).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVAL_FILE = ROOT / "tests" / "data" / "search_eval.json"
if str(ROOT) not in sys.path:  # run from anywhere: `python benchmarks/bench_search.py`
    sys.path.insert(0, str(ROOT))

from rh_tools import catalogue  # noqa: E402  (after the path fix above)
from rh_tools.catalogue import Endpoint  # noqa: E402

Search = Callable[[str, dict[str, Any]], Sequence[Endpoint]]


@dataclass(frozen=True)
class Query:
    q: str
    family: str
    split: str
    names: frozenset[str]
    tasks: frozenset[str] | None
    pattern: str | None
    filters: dict[str, Any]

    def right(self, ep: Endpoint) -> bool:
        if ep.tool_name in self.names:
            return True
        if self.tasks is None and self.pattern is None:
            return False
        task_ok = self.tasks is None or ep.task in self.tasks
        name_ok = self.pattern is None or re.search(self.pattern, ep.tool_name) is not None
        return task_ok and name_ok


def load_queries(path: Path = EVAL_FILE) -> list[Query]:
    raw = json.loads(path.read_text("utf-8"))["queries"]
    return [
        Query(
            q=r["q"],
            family=r["family"],
            split=r["split"],
            names=frozenset(r.get("names", ())),
            tasks=frozenset(r["tasks"]) if "tasks" in r else None,
            pattern=r.get("pattern"),
            filters=dict(r.get("filters", {})),
        )
        for r in raw
    ]


@dataclass
class Outcome:
    query: Query
    top: list[str]
    hit1: bool
    hit3: bool
    precision3: float
    seconds: float


def default_search(text: str, filters: dict[str, Any]) -> Sequence[Endpoint]:
    return catalogue.search(text, limit=3, **filters)


def evaluate(queries: Sequence[Query], search: Search = default_search) -> list[Outcome]:
    by_name = {ep.tool_name: ep for ep in catalogue.all()}
    outcomes: list[Outcome] = []
    for query in queries:
        started = time.perf_counter()
        found = list(search(query.q, query.filters))[:3]
        seconds = time.perf_counter() - started
        rights = [query.right(by_name[ep.tool_name]) for ep in found]
        outcomes.append(
            Outcome(
                query=query,
                top=[ep.tool_name for ep in found],
                hit1=bool(rights[:1]) and rights[0],
                hit3=any(rights),
                precision3=sum(rights) / 3,
                seconds=seconds,
            )
        )
    return outcomes


def rate(outcomes: Sequence[Outcome], attr: str = "hit3") -> float:
    return sum(float(getattr(o, attr)) for o in outcomes) / len(outcomes) if outcomes else 0.0


def _row(label: str, outs: Sequence[Outcome]) -> str:
    return (
        f"| {label} | {len(outs)} | {rate(outs, 'hit1'):.0%} | **{rate(outs):.0%}** | "
        f"{rate(outs, 'precision3'):.2f} | {sum(not o.hit3 for o in outs)} |"
    )


def report(outcomes: Sequence[Outcome], show_misses: bool = False) -> str:
    lines = [
        "| queries | n | top-1 | top-3 | precision@3 | misses |",
        "|---|---|---|---|---|---|",
        _row("all", outcomes),
    ]
    for split in ("tune", "holdout"):
        part = [o for o in outcomes if o.query.split == split]
        if part:
            lines.append(_row(split, part))
    lines += ["", "| family | n | top-1 | top-3 | precision@3 | misses |", "|---|---|---|---|---|---|"]
    for family in sorted({o.query.family for o in outcomes}):
        lines.append(_row(family, [o for o in outcomes if o.query.family == family]))
    times = sorted(o.seconds * 1000 for o in outcomes)
    lines += [
        "",
        f"Query time over {len(times)} queries: median {statistics.median(times):.2f} ms, "
        f"max {times[-1]:.2f} ms (first query includes building the index).",
    ]
    if show_misses:
        lines += ["", "Misses (query → top 3):"]
        lines += [f"- [{o.query.split}] {o.query.q!r} → {o.top}" for o in outcomes if not o.hit3]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["tune", "holdout", "all"], default="all")
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args(argv)
    queries = [q for q in load_queries() if args.split in ("all", q.split)]
    print(report(evaluate(queries), show_misses=args.show_misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())
