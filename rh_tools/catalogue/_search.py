"""Ranked, recall-first search over the catalogue, by the words agents and people actually type.

A query is read twice. Once for *intent*: phrases and words from :mod:`._vocabulary` become concepts
every catalogue row carries or not (``kind:upscale``, ``task:image-to-video``, ``out:video``,
``in:image``), and the little words around media nouns say which side of the task a noun is on
("a video *from an image*" wants ``out:video`` and ``in:image``). Once for *words*: every remaining
word that is not a stop word is looked up in the row's names (tool, sidebar, path, aliases, model),
task, provider and description, weighted by how rare it is (IDF) and by the field it is found in.
A row's score is the sum of both; a word that matches nothing costs nothing (recall first), and the
ranking keeps rows scoring at least half the best score. Ties keep catalogue order, so results are
deterministic.

Why our own scorer rather than BM25: on the evaluation set (``benchmarks/bench_search.py``) the
words-only part is where BM25 would sit, and most of the queries that fail there ("animate this
photo") share no word with the right rows at all; what fixes them is the vocabulary and the roles,
which BM25 does not have. The figures are in benchmarks/RESULTS.md.

The index is built on the first search (a few milliseconds for ~330 rows), never at import.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from ._schema import Endpoint
from ._vocabulary import (
    FEATURE_MARKERS,
    IN_MARKERS,
    INTENTS,
    MEDIA_NOUNS,
    OUT_MARKERS,
    PHRASES,
    STOP_WORDS,
    SYNONYMS,
    WEAK_OUT_MARKERS,
)

__all__ = ["QueryPlan", "SearchIndex", "SearchResult", "analyse", "endpoint_concepts", "word_forms"]

# How much a matched concept is worth, by its kind; a concept's query weight (0..1) multiplies this.
CONCEPT_WEIGHT = {"task": 3.0, "kind": 3.0, "out": 2.0, "in": 1.5, "variant": 1.0}
# An input the row accepts as an optional parameter rather than as the task's main input.
PARAM_INPUT_FACTOR = 0.5
# "generate a video" names no input: rows that start from a prompt are the likelier ask.
PROMPT_INPUT_BONUS = 0.5
# Where a query word is found in a row, and how much that counts (times the word's IDF).
FIELD_WEIGHT = {"names": 1.0, "task": 0.8, "provider": 0.7, "description": 0.4}
PREFIX_FACTOR = 0.6  # "topaz" finds "topazlabs"
FUZZY_FACTOR = 0.5  # "seedence" finds "seedance"
# Concepts of a word that only describes the ask ("a song *with my lyrics*") count this much.
FEATURE_FACTOR = 0.5
# A row matches when its total score, or its intent score alone, reaches this share of the best one.
RELATIVE_CUTOFF = 0.5

_TOKEN = re.compile(r"[a-z0-9]+(?:\.[0-9]+)*")
# Parts of a glued token: "veo3.1" -> veo, 3.1; "hunyuan3d" -> hunyuan, 3d; "gemini31flash" -> gemini, 31, flash.
_PART = re.compile(r"[a-z]+|[0-9]+(?:\.[0-9]+)*(?:[a-z]{1,2}(?![a-z]))?")
_VERSION = re.compile(r"^v(\d+(?:\.\d+)*)$")

# What a task makes and takes, as media kinds ("world" is an explorable 3D world).
_TASK_OUT = {
    "text-to-image": "image",
    "image-to-image": "image",
    "video-edit": "video",
    "video-extend": "video",
    "video-effects": "video",
    "motion-control": "video",
    "video-tools": "video",
    "voice-clone": "audio",
}
_TASK_IN = {
    "start-end-to-video": ("image",),
    "reference-to-video": ("image", "video"),
    "motion-control": ("image", "video"),
    "audio-to-video": ("audio",),
    "video-edit": ("video",),
    "video-extend": ("video",),
    "voice-clone": ("audio",),
}
_PROMPT_KEYS = frozenset({"prompt", "text", "description", "lyrics", "textPrompt"})


def _stem(word: str) -> str:
    """A light, symmetric stemmer (query and rows go through it alike): images/image, editing/edit."""
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _words(text: str) -> list[str]:
    """Lower-case words, split on anything but letters, digits and the dots of version numbers."""
    return _TOKEN.findall(text.lower().replace("_", " "))


@lru_cache(maxsize=8192)
def word_forms(word: str) -> frozenset[str]:
    """The stemmed forms a row is found by: the word itself, its glued parts, 'v2.5' as '2.5'.

    Cached: the ~330 rows repeat the same few thousand words."""
    canon = SYNONYMS.get(word, word)
    forms = {_stem(canon)}
    parts: list[str] = _PART.findall(word)
    if len(parts) > 1:
        forms.update(_stem(SYNONYMS.get(p, p)) for p in parts if len(p) > 1 or p.isdigit())
    version = _VERSION.match(word)
    if version:
        forms.add(version.group(1))
    return frozenset(forms)


def _field_tokens(texts: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for text in texts:
        for w in _words(text):
            out |= word_forms(w)
    return frozenset(out)


# ------------------------------------------------------------------ what a row is


def _makes(ep: Endpoint) -> str:
    if ep.task.endswith("-to-world"):
        return "world"
    if ep.task in _TASK_OUT:
        return _TASK_OUT[ep.task]
    if ep.task == "upscale":
        return ep.output_type
    if "/lyrics" in ep.path:
        return "text"  # writes lyrics (the registry files it under audio)
    if "-to-" in ep.task:
        return ep.task.rsplit("-to-", 1)[1]
    return ep.category


def _takes(ep: Endpoint) -> tuple[set[str], set[str]]:
    """(the task's main inputs, every input a parameter accepts)."""
    if ep.task in _TASK_IN:
        main = set(_TASK_IN[ep.task])
    elif ep.task == "upscale":
        main = {ep.output_type}
    elif "-to-" in ep.task:
        main = {ep.task.split("-to-", 1)[0]}
    else:
        main = {p.type for p in ep.params if p.is_media}
    params = {p.type for p in ep.params if p.is_media}
    if params and "text" not in main and not main & params:
        main = params  # the task name says less than the parameters (kling lip-sync's identify-face takes a video)
    if ep.tool_name.startswith("kling_v2_ai_avatar"):
        main.add("image")  # a portrait and an audio track
    if any(p.name in _PROMPT_KEYS or p.key in _PROMPT_KEYS for p in ep.params):
        params.add("text")
    return main, params | main


# (pattern searched in the row's path and tool name, kinds it adds)
_KIND_RULES: list[tuple[str, tuple[str, ...]]] = [
    (r"speech-|lip_sync_tts|kling-lip-sync/tts", ("speech",)),
    (r"/music|suno-v[\d.]+/(single|custom)", ("music",)),
    (r"suno/lyrics", ("lyrics",)),
    (r"voice-design", ("voice-design",)),
    (r"voice-clone", ("voice-clone",)),
    (r"lip-sync", ("lipsync",)),
    (r"ai-avatar|image-audio-to-video", ("avatar", "lipsync")),
    (r"fps-increaser", ("fps",)),
    (r"restyling", ("restyle",)),
    (r"effects", ("effects",)),
    (r"multi-image|multi_image", ("multiview",)),
    (r"sora-upload-character", ("character",)),
    (r"kling-elements", ("element",)),
    (r"upload-media-asset", ("asset",)),
]
# Kinds that follow from the task alone.
_TASK_KINDS: dict[str, tuple[str, ...]] = {
    "upscale": ("upscale",),
    "image-to-image": ("edit",),
    "video-edit": ("edit",),
    "video-to-video": ("edit", "restyle"),
    "video-extend": ("extend",),
    "start-end-to-video": ("transition",),
    "reference-to-video": ("reference",),
    "motion-control": ("motion",),
    "audio-to-video": ("lipsync",),
    "video-effects": ("effects",),
    "image-to-text": ("understand",),
    "video-to-text": ("understand",),
    "text-to-text": ("chat",),
    "voice-clone": ("voice-clone",),
}


def endpoint_concepts(ep: Endpoint) -> frozenset[str]:
    """Every concept a row answers to: its task, what it makes and takes, its kinds and channel."""
    main_in, _ = _takes(ep)
    concepts = {f"task:{ep.task}", f"out:{_makes(ep)}", *(f"in:{m}" for m in main_in)}
    concepts.update(f"kind:{k}" for k in _TASK_KINDS.get(ep.task, ()))
    if ep.task.endswith("-to-world"):
        concepts.add("kind:world")
    hay = f"{ep.path} {ep.tool_name}"
    for pattern, kinds in _KIND_RULES:
        if re.search(pattern, hay):
            concepts.update(f"kind:{k}" for k in kinds)
    if any(p.type == "lora" for p in ep.params):
        concepts.add("kind:lora")
    if ep.variant:
        concepts.add(f"variant:{ep.variant}")
    return frozenset(concepts)


# ------------------------------------------------------------------ what a query asks


@dataclass
class QueryPlan:
    """A query, read: the words to look up, the concepts asked for (0..1) and notes for the agent."""

    terms: list[str] = field(default_factory=list[str])
    concepts: dict[str, float] = field(default_factory=dict[str, float])
    notes: list[str] = field(default_factory=list[str])

    def want(self, concept: str, weight: float) -> None:
        self.concepts[concept] = max(self.concepts.get(concept, 0.0), weight)


def _join_phrases(words: list[str]) -> tuple[list[str], list[str]]:
    """The words with each known phrase joined into one token, and the words those phrases used up."""
    longest = max(len(p) for p in PHRASES)
    out: list[str] = []
    used: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 1, -1):
            joined = PHRASES.get(tuple(words[i : i + n]))
            if joined:
                out.append(joined)
                used.extend(words[i : i + n])
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out, used


def _is_feature(words: list[str], i: int) -> bool:
    """True when the word at ``i`` describes a property or purpose ("song *with my lyrics*", "lyrics
    *for a song*") rather than what is asked for: a feature marker before it, across stop words only."""
    for j in range(i - 1, -1, -1):
        if words[j] in FEATURE_MARKERS:
            return True
        if words[j] not in STOP_WORDS:
            return False
    return False


def _role_of(words: list[str], i: int, intent_role: str | None) -> str:
    """Which side of the task the media noun at ``words[i]`` is on: in, out, same or feature."""
    for j in range(i - 1, max(i - 4, -1), -1):
        w = words[j]
        if SYNONYMS.get(w, w) in MEDIA_NOUNS:
            break  # the marker belongs to the noun before
        if w in FEATURE_MARKERS:
            return "feature"
        if w in OUT_MARKERS:
            return "out" if intent_role != "same" else "same"
        if w in IN_MARKERS:
            return "in" if intent_role != "same" else "same"
        if w in WEAK_OUT_MARKERS:
            return intent_role or "out"
    nxt = next((w for w in words[i + 1 : i + 3] if w not in ("a", "an", "the")), None)
    if nxt in ("to", "into") and intent_role != "same":
        return "in"  # "image to video": the noun before 'to' is the input
    return intent_role or "out"


def analyse(text: str) -> QueryPlan:
    """Read a query into words to look up and concepts asked for (see the module docstring)."""
    plan = QueryPlan()
    words, phrase_words = _join_phrases(_words(text))
    intents = [(INTENTS[w], _is_feature(words, i)) for i, w in enumerate(words) if w in INTENTS]
    roles = {intent.role for intent, feature in intents if intent.role and not feature}
    # One role for the nouns of the whole query: 'same' (edit, upscale) wins, then 'in' (animate).
    intent_role = "same" if "same" in roles else "in" if "in" in roles else "out" if roles else None
    for intent, feature in intents:
        for concept, weight in intent.concepts.items():
            plan.want(concept, weight * (FEATURE_FACTOR if feature else 1.0))
        if intent.note and intent.note not in plan.notes:
            plan.notes.append(intent.note)
    directed: dict[str, set[str]] = {"in": set(), "out": set()}
    for i, w in enumerate(words):
        media = MEDIA_NOUNS.get(SYNONYMS.get(w, w))
        if media is None:
            continue
        role = _role_of(words, i, intent_role)
        if role == "same":
            plan.want(f"in:{media}", 1.0)
            plan.want(f"out:{media}", 1.0)
        elif role in directed:
            directed[role].add(media)
            plan.want(f"{role}:{media}", 1.0)
    # "a video from an image", "image to 3d": the task that takes the one and makes the other (if any)
    for a in directed["in"]:
        for b in directed["out"]:
            plan.want(f"task:{a}-to-{b}", 0.7)
    # Words are looked up as typed, phrase words too ("text to speech" finds "speech" in names).
    for w in [*words, *phrase_words]:
        if w not in STOP_WORDS and w not in plan.terms:
            plan.terms.append(w)
    return plan


# ------------------------------------------------------------------ the index


@dataclass
class _Row:
    ep: Endpoint
    fields: dict[str, frozenset[str]]
    concepts: frozenset[str]
    inputs: frozenset[str]


@dataclass(frozen=True)
class SearchResult:
    """Ranked matches (best first) and, when they help, notes and what to try instead."""

    models: list[Endpoint]
    scores: list[float]
    notes: list[str] = field(default_factory=list[str])
    suggestions: list[str] = field(default_factory=list[str])

    @property
    def total(self) -> int:
        return len(self.models)


class SearchIndex:
    """The rows' words and concepts, built once per catalogue (on its first search).

    Posting lists (word -> rows, concept -> rows) make a query cost what its words touch, not what the
    catalogue holds: well under a millisecond for most queries.
    """

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        self.rows: list[_Row] = []
        for ep in endpoints:
            _, inputs = _takes(ep)
            fields = {
                "names": _field_tokens((ep.tool_name, ep.sidebar_name, ep.path, ep.model, *ep.aliases)),
                "task": _field_tokens((ep.task, ep.category, ep.output_type, ep.variant or "")),
                "provider": _field_tokens((ep.provider,)),
                "description": _field_tokens((ep.description,)),
            }
            self.rows.append(_Row(ep, fields, endpoint_concepts(ep), frozenset(inputs)))
        # word -> {row position: weight of the best field holding it}
        self.words: dict[str, dict[int, float]] = {}
        self.concepts: dict[str, set[int]] = {}
        self.inputs: dict[str, set[int]] = {}
        for pos, row in enumerate(self.rows):
            for fname, tokens in row.fields.items():
                for tok in tokens:
                    posting = self.words.setdefault(tok, {})
                    posting[pos] = max(posting.get(pos, 0.0), FIELD_WEIGHT[fname])
            for concept in row.concepts:
                self.concepts.setdefault(concept, set()).add(pos)
            for media in row.inputs:
                self.inputs.setdefault(media, set()).add(pos)
        n = len(self.rows)
        self.idf = {tok: math.log(1 + n / len(posting)) for tok, posting in self.words.items()}
        self.vocabulary = sorted(self.idf)

    # -- words

    def _term_forms(self, term: str) -> list[tuple[str, float]]:
        """Row words a query word finds, each with its factor: itself, its parts, a prefix, a near spelling."""
        whole = _stem(SYNONYMS.get(term, term))
        if whole in self.idf:
            return [(whole, 1.0)]
        parts = word_forms(term) & self.idf.keys()
        if parts:
            return [(tok, 0.9) for tok in sorted(parts)]
        if len(whole) < 4:
            return []
        prefixed = [tok for tok in self.vocabulary if tok.startswith(whole)]
        if prefixed:
            return [(tok, PREFIX_FACTOR) for tok in prefixed]
        if len(whole) < 5:
            return []
        # Near spellings share the first letter and about the length: a short list for difflib.
        alike = [t for t in self.vocabulary if t[0] == whole[0] and abs(len(t) - len(whole)) <= 2]
        return [(tok, FUZZY_FACTOR) for tok in difflib.get_close_matches(whole, alike, n=2, cutoff=0.84)]

    def _lexical(self, plan: QueryPlan) -> dict[int, float]:
        scores: dict[int, float] = {}
        for term in plan.terms:
            best: dict[int, float] = {}
            for tok, factor in self._term_forms(term):
                weight = factor * self.idf[tok]
                for pos, field_weight in self.words[tok].items():
                    best[pos] = max(best.get(pos, 0.0), weight * field_weight)
            for pos, value in best.items():
                scores[pos] = scores.get(pos, 0.0) + value
        return scores

    # -- concepts

    def _conceptual(self, plan: QueryPlan) -> dict[int, float]:
        scores: dict[int, float] = {}
        for concept, weight in plan.concepts.items():
            kind, _, value = concept.partition(":")
            full = self.concepts.get(concept, set())
            for pos in full:
                scores[pos] = scores.get(pos, 0.0) + CONCEPT_WEIGHT[kind] * weight
            if kind == "in":  # takes it as an optional parameter rather than as its main input
                for pos in self.inputs.get(value, set()) - full:
                    scores[pos] = scores.get(pos, 0.0) + CONCEPT_WEIGHT[kind] * weight * PARAM_INPUT_FACTOR
        return scores

    def _prompt_bonus(self, plan: QueryPlan, matched: Iterable[int]) -> dict[int, float]:
        """The PROMPT_INPUT_BONUS for rows already matched otherwise, when the query names no input."""
        asks_input = any(c.startswith("in:") for c in plan.concepts)
        if asks_input or not any(c.startswith("out:") for c in plan.concepts):
            return {}
        prompt_rows = self.concepts.get("in:text", set())
        return {pos: PROMPT_INPUT_BONUS for pos in matched if pos in prompt_rows}

    def rank(
        self, plan: QueryPlan, allowed: Collection[int] | None = None, universe: Collection[int] | None = None
    ) -> list[tuple[float, int, Endpoint]]:
        """(score, position, endpoint) of the rows that match, best first; only ``allowed`` positions if given.

        A row matches when its total score reaches ``RELATIVE_CUTOFF`` of the best total, or its intent
        score alone reaches that share of the best intent score: a rare word in one row's name ("tts")
        must not hide the rows that do what was asked. The best scores are taken over ``universe`` (all
        rows if not given), not over the filtered rows: a filter narrows the matches, it does not turn
        the best of a bad lot ("clone my voice" among 3D models) into one.
        """
        lexical, intent = self._lexical(plan), self._conceptual(plan)
        matched = lexical.keys() | intent.keys()
        bonus = self._prompt_bonus(plan, matched)
        scored: dict[int, tuple[float, float]] = {}
        for pos in matched:
            concepts = intent.get(pos, 0.0) + bonus.get(pos, 0.0)
            total = round(lexical.get(pos, 0.0) + concepts, 9)
            if total > 0:
                scored[pos] = (total, concepts)
        pool = [v for p, v in scored.items() if universe is None or p in universe]
        if not pool:
            return []
        best_total = max(t for t, _ in pool)
        best_intent = max(c for _, c in pool)
        kept = [
            (total, pos, self.rows[pos].ep)
            for pos, (total, concepts) in scored.items()
            if (allowed is None or pos in allowed)
            and (
                total >= RELATIVE_CUTOFF * best_total or (best_intent > 0 and concepts >= RELATIVE_CUTOFF * best_intent)
            )
        ]
        kept.sort(key=lambda t: (-t[0], t[1]))
        return kept

    def near_words(self, words: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
        """Known words close to unknown query words, for 'did you mean'."""
        known = sorted({*self.vocabulary, *INTENTS, *SYNONYMS, *extra})
        out: list[str] = []
        for w in words:
            for near in difflib.get_close_matches(w, known, n=3, cutoff=0.7):
                if near != w and near not in out:
                    out.append(near)
        return out[:6]
