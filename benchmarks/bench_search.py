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
from rh_tools.catalogue._search import SearchIndex, analyse, word_forms  # noqa: E402

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


def bm25_search(with_concepts: bool) -> Search:
    """BM25 (``rank_bm25.BM25Okapi``) over the same rows, words and stemming as our scorer.

    ``with_concepts`` adds each row's concepts (task, kind, makes, takes, channel) to its document and
    the query's concepts from our vocabulary to the query, so BM25 gets the same intent reading and only
    the way of combining the evidence differs.
    """
    from rank_bm25 import BM25Okapi  # type: ignore[import-untyped]  # benchmark-only: pip install rank-bm25

    rows = [r for r in SearchIndex(catalogue.all()).rows if not r.ep.deprecated]
    docs: list[list[str]] = []
    for row in rows:
        tokens = sorted(set[str]().union(*row.fields.values()))
        docs.append(tokens + (sorted(row.concepts) if with_concepts else []))
    bm25: Any = BM25Okapi(docs)

    def search(text: str, filters: dict[str, Any]) -> Sequence[Endpoint]:
        plan = analyse(text)
        query = sorted({form for term in plan.terms for form in word_forms(term)})
        if with_concepts:
            query += sorted(plan.concepts)
        scores: list[float] = [float(x) for x in bm25.get_scores(query)]
        order = sorted(range(len(rows)), key=lambda i: (-scores[i], i))
        return [rows[i].ep for i in order[:3] if scores[i] > 0]

    return search


def evaluate(queries: Sequence[Query], search: Search = default_search, repeats: int = 1) -> list[Outcome]:
    """Run every query (``repeats`` times, keeping the median time: the machine is shared and noisy)."""
    by_name = {ep.tool_name: ep for ep in catalogue.all()}
    outcomes: list[Outcome] = []
    for query in queries:
        times: list[float] = []
        found: list[Endpoint] = []
        for _ in range(max(1, repeats)):
            started = time.perf_counter()
            found = list(search(query.q, query.filters))[:3]
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
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
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    lines += [
        "",
        f"Query time over {len(times)} queries (index already built; each query's median of its runs): "
        f"median {statistics.median(times):.2f} ms, "
        f"p95 {p95:.2f} ms, max {times[-1]:.2f} ms.",
    ]
    if show_misses:
        lines += ["", "Misses (query → top 3):"]
        lines += [f"- [{o.query.split}] {o.query.q!r} → {o.top}" for o in outcomes if not o.hit3]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--split", choices=["tune", "holdout", "all"], default="all")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--repeats", type=int, default=7, help="runs per query for the timing (median kept)")
    ap.add_argument(
        "--scorer",
        choices=["ours", "bm25", "bm25+concepts", "compare"],
        default="ours",
        help="rank with our scorer (default), BM25 on words, BM25 on words and concepts, or all three",
    )
    args = ap.parse_args(argv)
    queries = [q for q in load_queries() if args.split in ("all", q.split)]
    scorers: dict[str, Search] = {}
    if args.scorer in ("ours", "compare"):
        scorers["ours"] = default_search
    if args.scorer in ("bm25", "compare"):
        scorers["BM25 (words)"] = bm25_search(with_concepts=False)
    if args.scorer in ("bm25+concepts", "compare"):
        scorers["BM25 (words + concepts)"] = bm25_search(with_concepts=True)
    if len(scorers) == 1:
        started = time.perf_counter()
        catalogue.load()
        loaded = time.perf_counter()
        catalogue.find("warm up")
        built = time.perf_counter()
        print(
            f"Catalogue load {1000 * (loaded - started):.1f} ms; search index build (first search) "
            f"{1000 * (built - loaded):.1f} ms.\n"
        )
        outcomes = evaluate(queries, next(iter(scorers.values())), repeats=args.repeats)
        print(report(outcomes, show_misses=args.show_misses))
        return 0
    print("| scorer | n | top-1 | top-3 | precision@3 | misses | top-3 tune | top-3 holdout |")
    print("|---|---|---|---|---|---|---|---|")
    for name, search in scorers.items():
        outs = evaluate(queries, search)
        tune = [o for o in outs if o.query.split == "tune"]
        hold = [o for o in outs if o.query.split == "holdout"]
        print(_row(name, outs) + f" {rate(tune):.0%} | {rate(hold):.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
