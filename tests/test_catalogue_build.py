"""The generated endpoint catalogue: up to date, complete, resolvable, and in our own words.

The regeneration and seed-parsing checks need the read-only reference folder beside the project
(``<repo>/../shared/reference``); on a clone without it they skip, and the test run ends with a
loud list of the checks that did not run (``RH_REQUIRE_REFERENCE=1`` turns that into a failure).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import catalogue_build
import pytest
from catalogue_build.names import tool_name_for

import rh_tools.catalogue as catalogue
from rh_tools.catalogue._schema import TOOL_NAME_RE, Endpoint

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
SCRIPT = REPO / "scripts" / "build_catalogue.py"
CATALOGUE_JSON = REPO / "rh_tools" / "catalogue" / "endpoints.json"
SEED = REFERENCE / "seed-api-doc-grok-image-to-image.txt"
REGISTRY = REFERENCE / "model-registry.public.json"

# On a clone without the reference these skip, and the run ends listing them (tests/conftest.py).
needs_reference = pytest.mark.needs_reference
CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


@pytest.fixture(scope="module")
def doc() -> dict:
    return json.loads(CATALOGUE_JSON.read_text("utf-8"))


# 1. The committed JSON is what the script generates -------------------------------------------


@needs_reference
def test_committed_json_matches_regeneration(tmp_path: Path) -> None:
    out = tmp_path / "endpoints.json"
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--reference", str(REFERENCE), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert out.read_bytes() == CATALOGUE_JSON.read_bytes(), "run python scripts/build_catalogue.py"


@needs_reference
def test_check_mode_passes_on_committed_json() -> None:
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--reference", str(REFERENCE), "--out", str(CATALOGUE_JSON), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"run python scripts/build_catalogue.py\n{run.stderr}"


def test_tool_name_rule_examples() -> None:
    assert tool_name_for("grok-image/image-to-image/channel-low-price") == "grok_image_to_image"
    assert tool_name_for("sora-2/image-to-video-official-stable") == "sora_2_image_to_video_official"
    assert tool_name_for("sora-2/image-to-video-channel-low-price") == "sora_2_image_to_video"
    assert tool_name_for("wan-2.2/image-to-video") == "wan_2_2_image_to_video"  # numbers never fold
    assert tool_name_for("  topazlabs-image-upscale text refine ") == "topazlabs_image_upscale_text_refine"
    assert len(tool_name_for("x-" * 80)) <= 64


def test_every_generator_module_is_on_the_map() -> None:
    """The package docstring and docs/catalogue.md name every module, so a newcomer finds each rule."""
    modules = sorted(p.stem for p in (REPO / "scripts" / "catalogue_build").glob("*.py") if p.stem != "__init__")
    guide = (REPO / "docs" / "catalogue.md").read_text("utf-8")
    assert len(modules) >= 8
    for module in modules:
        assert f"``{module}``" in (catalogue_build.__doc__ or ""), module
        assert f"`{module}.py`" in guide, module


# 2. Sidebar coverage -------------------------------------------------------------------------


def test_every_sidebar_name_resolves(doc: dict) -> None:
    exceptions = doc["sidebar_exceptions"]
    assert len(exceptions) <= 3, exceptions
    names = [s["name"] for s in doc["sidebar"]]
    assert len(names) == len(set(names))
    for name, reason in exceptions.items():
        assert name in names and isinstance(reason, str) and reason.strip()
    for name in names:
        if name in exceptions:
            continue
        ep = catalogue.get(name)
        assert ep.sidebar_name == name or name in ep.aliases


def _independent_sidebar(text: str) -> list[tuple[str, str]]:
    """Leaves under 'Standard Model API' as (name, 'group[/subgroup]'), first occurrence only."""
    rows = [(len(m.group(1)), m.group(2).strip()) for m in re.finditer(r"^( *)• (.+)$", text, re.M)]
    start = next(i for i, (_, t) in enumerate(rows) if t == "Standard Model API")
    base = rows[start][0]
    sub = []
    for indent, t in rows[start + 1 :]:
        if indent <= base:
            break
        sub.append((indent, t))
    out: dict[str, str] = {}
    path: dict[int, str] = {}
    for i, (indent, t) in enumerate(sub):
        path = {k: v for k, v in path.items() if k < indent}
        path[indent] = t
        nxt = sub[i + 1][0] if i + 1 < len(sub) else base
        if nxt <= indent:  # a leaf
            ancestors = [path[k] for k in sorted(path) if k < indent][:2]
            out.setdefault(t, "/".join(ancestors))
    return list(out.items())


@needs_reference
def test_sidebar_list_matches_seed_page(doc: dict) -> None:
    expected = _independent_sidebar(SEED.read_text("utf-8"))
    assert [(s["name"], s["group"]) for s in doc["sidebar"]] == expected
    assert len(expected) >= 200


# 3. Pinned names across families (tool name, sidebar/display name, path) ----------------------

PINNED = [
    ("grok_image_to_image", "grok-image/image-to-image/channel-low-price", "rhart-image-g/image-to-image"),
    ("grok_image_text_to_image", "grok-image/text-to-image/channel-low-price", "rhart-image-g/text-to-image"),
    ("nano_banana_edit", "nano-banana/edit-channel-low-price", "rhart-image-v1/edit"),
    (
        "nano_banana_pro_text_to_image_official",
        "nano-banana-pro/text-to-image-official-stable",
        "rhart-image-n-pro-official/text-to-image",
    ),
    (
        "nano_banana2_gemini31flash_image_to_image",
        "nano-banana2-gemini31flash/image-to-image-channel-low-price",
        "rhart-image-n-g31-flash/image-to-image",
    ),
    ("seedream_v4_5_text_to_image", "seedream-v4.5/text-to-image", "seedream-v4.5/text-to-image"),
    (
        "gpt_image_1_5_image_to_image_official",
        "gpt-image-1.5/image-to-image-official-stable",
        "rhart-image-g-1.5-official/image-to-image",
    ),
    ("gpt_image_1_5_edit", "gpt-image-1.5/edit-channel-low-price", "rhart-image-g-1.5/edit"),
    ("qwen_image_edit_2511", "qwen-image/edit-2511", "rhart-image/qwen-image/edit-2511"),
    (
        "qwen_image_2_0_pro_text_to_image",
        "qwen-image-2.0-pro/text-to-image",
        "alibaba/qwen-image-2.0-pro/text-to-image",
    ),
    ("wan_2_7_image_to_video", "wan-2.7/image-to-video", "alibaba/wan-2.7/image-to-video"),
    ("wan_2_2_text_to_video", "wan-2.2/text-to-video", "rhart-video/wan-2.2/text-to-video"),
    ("f_2_dev_text_to_image", "f-2-dev/text-to-image", "rhart-image/f-2-dev/text-to-image"),
    ("f_dev", "f-dev", "rhart-image/f-dev"),
    ("z_image_turbo", "z-image/turbo", "rhart-image/z-image/turbo"),
    ("kling_v3_0_pro_image_to_video", "kling-v3.0-pro-image-to-video", "kling-v3.0-pro/image-to-video"),
    (
        "kling_video_o1_std_refrence_to_video",
        "kling-video-o1-std/refrence-to-video",
        "kling-video-o1-std/refrence-to-video",
    ),
    (
        "google_veo3_1_fast_image_to_video",
        "google/veo3.1-fast/image-to-video-channel-low-price",
        "rhart-video-v3.1-fast/image-to-video",
    ),
    (
        "google_veo3_1_pro_text_to_video_official",
        "google/veo3.1-pro/text-to-video-official-stable",
        "rhart-video-v3.1-pro-official/text-to-video",
    ),
    ("sora_2_image_to_video", "sora-2/image-to-video-channel-low-price", "rhart-video-s/image-to-video"),
    (
        "sora_2_image_to_video_official",
        "sora-2/image-to-video-official-stable",
        "rhart-video-s-official/image-to-video",
    ),
    (
        "seedance_2_0_image_to_video",
        "seedance-2.0/image-to-video",
        "rhart-video/sparkvideo-2.0/image-to-video",
    ),
    ("seedance_v1_5_pro_text_to_video", "seedance-v1.5-pro-text-to-video", "seedance-v1.5-pro/text-to-video"),
    ("hailuo_2_3_i2v_pro", "hailuo-2.3/i2v-pro", "minimax/hailuo-2.3/image-to-video-pro"),
    ("vidu_text_to_video_q2", "Vidu-text-to-video-q2", "vidu/text-to-video"),
    ("pixverse_v6_image_to_video", "pixverse-v6/image-to-video", "pixverse-v6/image-to-video"),
    ("midjourney_text_to_image_v7", "midjourney-text-to-image-v7", "youchuan/text-to-image-v7"),
    ("minimax_speech_2_8_hd", "minimax/speech-2.8-hd", "rhart-audio/text-to-audio/speech-2.8-hd"),
    ("suno_custom_v5", "suno-custom-v5", "rhart-audio/suno-v5/custom"),
    ("hunyuan3d_v3_1_image_to_3d", "hunyuan3d-v3.1/image-to-3d", "hunyuan3d-v3.1/image-to-3d"),
    ("hitem3d_v2_multi_image_to_3d", "hitem3d-v2/multi-image-to-3d", "hitem3d-v2/multi-image-to-3d"),
    ("meshy6_text_to_3d", "meshy6/text-to-3d", "meshy6/text-to-3d"),
    ("topazlabs_video_upscale", "topazlabs-video-upscale", "topazlabs/video-upscale"),
    (
        "rhart_text_g_25_flash_image_to_text",
        "rhart-text-g-25-flash/image-to-text",
        "rhart-text-g-25-flash/image-to-text",
    ),
    ("cinematic_video_generator", "cinematic-video-generator", "cinematic-video-generator"),
    ("skyreels_v4_image_to_video", "skyreels-v4/image-to-video", "skyreels-v4/image-to-video-std"),
    ("skyreels_v4_image_to_video_fast", "skyreels-v4/image-to-video-fast", "skyreels-v4/image-to-video-fast"),
]


def test_pinned_table_is_broad() -> None:
    assert len(PINNED) >= 24
    assert len({t for t, _, _ in PINNED}) == len(PINNED)


@pytest.mark.parametrize(("tool", "sidebar", "path"), PINNED, ids=[t for t, _, _ in PINNED])
def test_pinned_names_resolve(tool: str, sidebar: str, path: str) -> None:
    ep = catalogue.get(tool)
    assert ep.tool_name == tool
    assert ep.path == path
    assert ep.sidebar_name == sidebar
    assert catalogue.get(sidebar) is ep
    assert catalogue.get(path) is ep
    assert catalogue.get(f"/openapi/v2/{path}") is ep


def test_variants_and_aliases() -> None:
    assert catalogue.get("sora_2_image_to_video").variant == "low-price"
    assert catalogue.get("sora_2_image_to_video_official").variant == "official"
    assert catalogue.get("seedance_2_0_image_to_video").variant is None
    # the registry's own name still finds the endpoint
    assert catalogue.get("sd2.0/video-generator-trial").path == "cinematic-video-generator"
    assert catalogue.get("Seedance2.0 Image to Video").tool_name == "seedance_2_0_image_to_video"
    assert catalogue.get("gpt_image_1_5_edit").deprecated


# 4. Rows are valid, complete and ours ---------------------------------------------------------


def test_rows_validate_and_are_complete(doc: dict) -> None:
    rows = [Endpoint.model_validate(r) for r in doc["endpoints"]]
    registry_rows = [r for r in rows if r.source == "registry"]
    assert len(registry_rows) == 299
    assert {r.source for r in rows} == {"registry", "capture"}
    paths = [r.path for r in rows]
    assert len(paths) == len(set(paths))
    names = [r.tool_name for r in rows]
    assert len(names) == len(set(names))
    assert all(TOOL_NAME_RE.fullmatch(n) and len(n) <= 64 for n in names)
    assert len(catalogue.all()) == len(rows)
    assert {r.path for r in rows if r.open_params} <= {
        "rhart-video/ltx-2/text-to-video-lora",
        "kling-v3.0-4k/motion-control",
    }


@needs_reference
def test_all_registry_paths_present(doc: dict) -> None:
    registry = json.loads(REGISTRY.read_text("utf-8"))
    expected = {m["endpoint"].strip().removesuffix("-[Deprecated]") for m in registry["models"]}
    assert len(expected) == 299
    assert expected <= {r["path"] for r in doc["endpoints"]}


def test_text_is_our_own(doc: dict) -> None:
    for row in doc["endpoints"]:
        assert row["description"] and len(row["description"]) <= 200, row["path"]
        assert not CJK.search(row["description"]), row["path"]
        for p in row["params"]:
            assert p.get("description"), (row["path"], p["key"])
            assert not CJK.search(p["description"]), (row["path"], p["key"])
            default = p.get("default")
            if p["type"] in ("image", "video", "audio"):
                assert default is None, (row["path"], p["key"])
            if isinstance(default, str) and p["type"] != "list":
                assert len(default) <= 32 and not CJK.search(default), (row["path"], p["key"], default)


def test_capture_params_use_file_names(doc: dict) -> None:
    for row in doc["endpoints"]:
        for p in row["params"]:
            if "##" in p["key"] and p["type"] in ("image", "video", "audio"):
                assert p["media_ref"] == "file_name", (row["path"], p["key"])
    f2 = catalogue.get("rhart-image/f-2-dev/text-to-image")
    assert [(p.key, p.name) for p in f2.params][:3] == [
        ("12##text", "prompt"),
        ("41##select", "aspect_ratio"),
        ("30##value", "custom_width"),
    ]


# 5. The seed page's example endpoint ----------------------------------------------------------


def test_seed_example_grok_image_to_image() -> None:
    ep = catalogue.get("grok_image_to_image")
    assert [p.key for p in ep.params] == ["model", "prompt", "imageUrl"]
    model, prompt, image = ep.params
    assert model.type == "list" and model.required and "g-4.2" in (model.options or [])
    assert prompt.type == "string" and prompt.required
    assert image.type == "image" and not image.required
    assert ep.path == "rhart-image-g/image-to-image" and ep.variant == "low-price"
    assert ep.category == "image" and ep.task == "image-to-image" and ep.output_type == "image"
