"""Model search by the words agents use (issue 13): the evaluation set, ranking rules, filters, hints,
and the same search through the catalogue API, the client, the CLI, LangChain and MCP.

The evaluation set is data (``tests/data/search_eval.json``); ``benchmarks/bench_search.py`` runs the
same code and prints the per-family table kept in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from mcp_server import ServerConfig, build_server
from rh_tools import AsyncRunningHub, InvalidInputError, RunningHub, catalogue
from rh_tools.catalogue import Catalogue
from rh_tools.catalogue._search import analyse
from rh_tools.cli import EXIT_INPUT, EXIT_OK, main
from rh_tools.langchain import RunningHubToolkit
from rh_tools.toolspecs import ToolContext, execute, generic_specs

ROOT = Path(__file__).resolve().parents[1]
KEY = "0123456789abcdef0123456789abcdef"
NOWHERE = "http://127.0.0.1:9"  # searching is local: a client pointed nowhere must still answer


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "benchmarks" / "bench_search.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _bench()
QUERIES = bench.load_queries()


# ---- the evaluation set ------------------------------------------------------------------------


def test_evaluation_set_is_broad_and_answerable() -> None:
    assert len(QUERIES) >= 60
    assert {q.split for q in QUERIES} == {"tune", "holdout"}
    assert sum(q.split == "holdout" for q in QUERIES) >= 30
    eps = catalogue.all()
    for q in QUERIES:  # every query has right answers in the catalogue (a typo in the data would not)
        assert any(q.right(ep) for ep in eps), q.q
    covered = {ep.task for q in QUERIES for ep in eps if q.right(ep)}
    assert covered == set(catalogue.load().tasks)  # every task family has right answers in the set


def test_top3_hit_rate_stays_at_least_90_percent() -> None:
    outcomes = bench.evaluate(QUERIES)
    misses = [(o.query.q, o.top) for o in outcomes if not o.hit3]
    holdout = [o for o in outcomes if o.query.split == "holdout"]
    assert bench.rate(outcomes) >= 0.9, misses
    assert bench.rate(holdout) >= 0.9, misses


@pytest.mark.parametrize(
    ("query", "expect"),
    [
        ("make a video from an image", {"image-to-video"}),
        ("animate this photo", {"image-to-video"}),
        ("upscale my photo", {"upscale"}),
        ("clone my voice", {"voice-clone"}),
        ("3d model from a picture", {"image-to-3d"}),
        ("describe what is in this image", {"image-to-text"}),
    ],
)
def test_the_six_queries_of_the_issue_rank_a_right_model_first(query: str, expect: set[str]) -> None:
    found = catalogue.search(query, limit=3)
    assert found and found[0].task in expect, [ep.tool_name for ep in found]


def test_the_benchmark_prints_rates_per_family(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--split", "holdout", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "| holdout | 54 |" in out and "| music |" in out and "Query time" in out


# ---- ranking rules -----------------------------------------------------------------------------


def test_stop_words_and_politeness_never_count_against_a_match() -> None:
    plain = catalogue.search("animate photo", limit=5)
    chatty = catalogue.search("could you please find me a good model that can animate this photo for me", limit=5)
    assert [ep.tool_name for ep in chatty] == [ep.tool_name for ep in plain]
    assert all(ep.task == "image-to-video" for ep in chatty)


def test_direction_matters_video_from_image_versus_image_from_video() -> None:
    assert catalogue.search("make a video from an image", limit=1)[0].task == "image-to-video"
    assert catalogue.search("image to 3d", limit=1)[0].task == "image-to-3d"
    assert catalogue.search("text to 3d", limit=1)[0].task == "text-to-3d"
    assert catalogue.search("summarize a video", limit=1)[0].task == "video-to-text"
    assert catalogue.search("describe an image", limit=1)[0].task == "image-to-text"


def test_model_names_still_win_and_ties_keep_catalogue_order() -> None:
    found = {ep.tool_name for ep in catalogue.search("grok image edit", limit=3)}
    assert "grok_image_to_image" in found
    assert found <= {"grok_image_to_image", "grok_3_image_to_image", "grok_4_image_to_image"} | {
        "xai_grok_imagine_image_edit_official"
    }
    first = [ep.tool_name for ep in catalogue.search("image to video")]
    again = [ep.tool_name for ep in catalogue.search("image to video")]
    assert first == again  # deterministic
    order = {ep.tool_name: i for i, ep in enumerate(catalogue.all())}
    result = catalogue.find("image to video")
    for (a, sa), (b, sb) in zip(
        zip(result.models, result.scores, strict=True),
        zip(result.models[1:], result.scores[1:], strict=True),
        strict=False,
    ):
        assert sa > sb or (sa == sb and order[a.tool_name] < order[b.tool_name])


def test_near_spellings_and_prefixes_find_the_model() -> None:
    assert catalogue.search("seedence video", limit=1)[0].model.startswith("seedance")
    assert catalogue.search("topaz", limit=1)[0].tool_name.startswith("topazlabs")


def test_query_reading_marks_what_the_user_has_and_what_they_want() -> None:
    plan = analyse("turn my picture into a short clip")
    assert plan.concepts.get("in:image") == 1.0 and plan.concepts.get("out:video") == 1.0
    assert "my" not in plan.terms and "picture" in plan.terms
    song = analyse("song with my lyrics")
    assert song.concepts["kind:music"] > song.concepts["kind:lyrics"]  # the lyrics only describe the song


def test_the_index_is_built_on_first_search_not_on_load() -> None:
    cat = Catalogue(catalogue.all())
    assert "_search_index" not in vars(cat)
    cat.find("kling")
    assert "_search_index" in vars(cat)
    code = "import rh_tools, sys; print(any(m.startswith('rh_tools.catalogue') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # importing the package does not even load the catalogue


# ---- never a bare "no models match" -------------------------------------------------------------


def test_general_models_come_with_a_note_when_no_model_is_named_for_the_ask() -> None:
    result = catalogue.find("remove the background from a product photo")
    assert result.models and all(ep.task == "image-to-image" for ep in result.models[:3])
    assert any("image-to-image" in note for note in result.notes)


def test_filters_that_exclude_every_match_are_named_with_what_would_match() -> None:
    result = catalogue.find("clone my voice", category="video")
    assert result.total == 0
    (tip,) = result.suggestions
    assert "without the filters" in tip and "category='video'" in tip and "voice-clone" in tip


def test_unknown_words_get_nearby_words_tasks_and_how_to_search() -> None:
    result = catalogue.find("upscalr")  # too far from anything for the fuzzy fall-back? then suggestions
    if result.total:
        assert result.models[0].task == "upscale"
    nothing = catalogue.find("qwzxv", category="3d")
    assert nothing.total == 0
    text = "\n".join(nothing.suggestions)
    assert "image-to-3d (14)" in text and "text-to-3d (2)" in text and "variant=low-price|official" in text
    typo = catalogue.find("klinng")
    assert typo.total and typo.models[0].tool_name.startswith("kling")


# ---- filters -------------------------------------------------------------------------------------


def test_filters_task_variant_input_type_category() -> None:
    found = catalogue.search("kling", task="image-to-video")
    assert found and all(ep.task == "image-to-video" and ep.tool_name.startswith("kling") for ep in found)
    cheap = catalogue.search("image to video", variant="low-price")
    assert cheap and all(ep.variant == "low-price" for ep in cheap)
    takes_audio = catalogue.search("", category="video", input_type="audio")
    assert "kling_v2_ai_avatar_pro_image_audio_to_video" in {ep.tool_name for ep in takes_audio}
    assert "kling_lip_sync_identify_face" not in {ep.tool_name for ep in takes_audio}  # takes a video only
    assert all(ep.category == "3d" for ep in catalogue.search("", category="3d"))
    assert catalogue.search("", task="Upscale", limit=2)  # filters ignore case


@pytest.mark.parametrize(
    ("kwargs", "field", "hint"),
    [
        ({"task": "img2vid"}, "task", "Did you mean 'image-to-video'?"),
        ({"variant": "cheap"}, "variant", "low-price, official"),
        ({"input_type": "3d"}, "input_type", "image, video, audio, text"),
    ],
)
def test_unknown_filter_values_are_refused_with_the_valid_ones(kwargs: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        catalogue.search("video", **kwargs)
    assert field in err.value.message and hint in (err.value.hint or "")


def test_no_price_filter_is_pretended() -> None:
    with pytest.raises(TypeError):
        catalogue.search("video", max_price=1.0)  # type: ignore[call-arg]  # the catalogue has no prices


# ---- every surface -----------------------------------------------------------------------------


async def test_client_twins_search_locally() -> None:
    with RunningHub(api_key=KEY, base_url=NOWHERE) as rh:
        assert rh.search("clone my voice", limit=1)[0].tool_name == "minimax_voice_clone"
    async with AsyncRunningHub(api_key=KEY, base_url=NOWHERE) as arh:
        found = await arh.search("text to 3d", task="text-to-3d", limit=5)
    assert found and all(ep.task == "text-to-3d" for ep in found)


def test_tool_plan_ranks_notes_and_suggests() -> None:
    spec = next(s for s in generic_specs() if s.name == "search_models")
    found = execute(spec, None, {"query": "animate this photo", "limit": 2}, ToolContext())
    assert not found.is_error and found.text.splitlines()[0].endswith("showing the best 2:")
    assert [m["task"] for m in found.data["models"]] == ["image-to-video", "image-to-video"]
    empty = execute(spec, None, {"query": "clone my voice", "category": "3d"}, ToolContext())
    assert not empty.is_error and empty.text.startswith("No models match 'clone my voice' category=3d.")
    assert "without the filters" in empty.text and empty.data["suggestions"]
    bad = execute(spec, None, {"query": "video", "task": "img2vid"}, ToolContext())
    assert bad.is_error and "image-to-video" in bad.text


def test_search_schema_is_provider_friendly() -> None:
    spec = next(s for s in generic_specs() if s.name == "search_models")
    schema = spec.input_model.model_json_schema()
    assert {"query", "category", "output_type", "task", "variant", "limit"} <= set(schema["properties"])
    for name, prop in schema["properties"].items():
        branches = prop.get("anyOf", [prop])  # optional choices are nullable (strict-ready, see _toolschema)
        assert all("type" in b and "const" not in b for b in branches), name
    assert schema["properties"]["variant"]["anyOf"][0]["enum"] == ["low-price", "official"]


def test_langchain_tool_searches_with_filters() -> None:
    rh, arh = RunningHub(api_key=KEY, base_url=NOWHERE), AsyncRunningHub(api_key=KEY, base_url=NOWHERE)
    tools = {t.name: t for t in RunningHubToolkit(client=rh, async_client=arh).get_tools()}
    out = tools["search_models"].invoke({"query": "upscale my photo", "task": "upscale", "limit": 3})
    assert isinstance(out, str) and "3 shown" not in out
    lines = [ln for ln in out.splitlines() if ln.startswith("- ")]
    assert len(lines) == 3 and all("[image]" in ln for ln in lines)


async def test_mcp_search_models_with_filters_over_a_real_client() -> None:
    server = build_server(ServerConfig(api_key=KEY, base_url=NOWHERE))
    async with Client(server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert {"task", "variant"} <= set(listed["search_models"].input_schema["properties"])
        result = await client.call_tool("search_models", {"query": "song with my lyrics", "variant": "official"})
        found = await client.call_tool("search_models", {"query": "generate a song", "limit": 3})
    assert not result.is_error and "without the filters" in result.content[0].text  # type: ignore[union-attr]
    assert not found.is_error
    names = [m["name"] for m in found.structured_content["models"]]  # type: ignore[index]
    assert names and all(n.startswith(("suno_", "minimax_music")) for n in names)


def test_cli_models_filters_and_hints(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "kling", "--task", "motion-control", "--json"]) == EXIT_OK
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["task"] == "motion-control" and r["name"].startswith("kling") for r in rows)
    assert main(["models", "remove", "background", "--limit", "2"]) == EXIT_OK
    assert "Note: No model here is built only for this" in capsys.readouterr().out
    assert main(["models", "video", "--task", "img2vid"]) == EXIT_INPUT
    assert "image-to-video" in capsys.readouterr().err
