"""Every endpoint's description agrees with its task and output type (issue 13).

A generator bug once called skyreels-v3's single-shot video *extension* "Generates a song from a short
description". These rules are written independently of the generator's templates: each task names
words its description must use, each kind of output names claims it must not make, and a row whose
result comes back as text (an id, a reference) must say so.
"""

from __future__ import annotations

import re

import pytest
from catalogue_build.descriptions import _what

import rh_tools.catalogue as catalogue

# task -> regexes that must all match the first sentence (case-insensitive)
MUST: dict[str, tuple[str, ...]] = {
    "text-to-image": (r"\bimages?\b", r"\b(text|prompt)\b"),
    "image-to-image": (r"\bimages?\b", r"\b(edit|transform)"),
    "image-to-video": (r"\bimage\b", r"\bvideo\b"),
    "text-to-video": (r"\bvideo\b", r"\b(text|prompt)\b"),
    "start-end-to-video": (r"\bvideo\b", r"\b(first|last) frame\b"),
    "reference-to-video": (r"\bvideo\b", r"\breference"),
    "video-extend": (r"\bvideo\b", r"\bextend"),
    "video-edit": (r"\bvideo\b", r"\bedit"),
    "video-to-video": (r"\bvideo\b",),
    "video-effects": (r"\bvideo\b", r"\b(effect|style)"),
    "motion-control": (r"\bmotion\b", r"\bvideo\b", r"\bimage\b"),
    "audio-to-video": (r"\b(audio|lip-sync)",),
    "upscale": (r"\bupscale", r"\b(image|video)\b"),
    "image-to-3d": (r"\b3d\b", r"\bimages?\b"),
    "text-to-3d": (r"\b3d\b", r"\b(text|prompt)\b"),
    "image-to-world": (r"\bworld\b", r"\bimages?\b"),
    "text-to-world": (r"\bworld\b", r"\b(text|prompt)\b"),
    "video-to-world": (r"\bworld\b", r"\bvideo\b"),
    "image-to-text": (r"\bimages?\b", r"\b(answers|describes|caption)"),
    "video-to-text": (r"\bvideo\b", r"\b(answers|describes|caption)"),
    "text-to-text": (r"\b(text|llm)\b",),
    "text-to-audio": (r"\b(speech|music|song|lyrics|voice|audio)\b",),
    "voice-clone": (r"\bclones? a voice\b",),
    "video-tools": (r"\b(video|element|character)",),
    "asset-upload": (r"\b(media|asset)\b",),
}
# What a description claims to make, by kind of output: a verb and its object, not what it is made
# from ("generates a video from reference images" makes no image).
_OBJECT = r"(?:(?!\b(?:from|with|for|about|following|guided)\b)[^.;])*?"
CLAIMS = {
    "image": rf"\b(generates|creates|edits|upscales)\b{_OBJECT}\bimages?\b",
    "video": rf"\b(generates|animates|edits|extends|transforms|upscales)\b{_OBJECT}\bvideo\b",
    "audio": r"\b(song|music|speech|lyrics)\b",
    "3d": r"\b3d model\b",
    "world": r"\b3d world\b",
}
# the claims each task may make: its own kind of output only
ALLOWED_CLAIMS: dict[str, set[str]] = {
    "text-to-image": {"image"},
    "image-to-image": {"image"},
    "text-to-audio": {"audio"},
    "voice-clone": {"audio"},
    "image-to-3d": {"3d"},
    "text-to-3d": {"3d"},
    "image-to-world": {"world"},
    "text-to-world": {"world"},
    "video-to-world": {"world"},
    "image-to-text": set(),
    "video-to-text": set(),
    "text-to-text": set(),
    "asset-upload": set(),
}
TEXT_RESULT = re.compile(r"\b(returns|comes back as text)\b", re.I)


def problems(ep: catalogue.Endpoint) -> list[str]:
    """What is wrong with one row's description (empty when it agrees with task and output type)."""
    first = ep.description.split(". ")[0].lower()
    found: list[str] = []
    rules = MUST.get(ep.task)
    if rules is None:
        found.append(f"task {ep.task!r} has no description rule: add one to MUST")
    for rule in rules or ():
        if not re.search(rule, first):
            found.append(f"{ep.task} description lacks /{rule}/")
    allowed = ALLOWED_CLAIMS.get(ep.task, {"video"} if ep.category == "video" else {ep.output_type})
    if ep.task == "upscale":
        allowed = {ep.output_type}
    for kind, claim in CLAIMS.items():
        if kind not in allowed and re.search(claim, first):
            found.append(f"{ep.task} row claims to make {kind}: {first!r}")
    if ep.output_type == "text" and ep.category != "text" and not TEXT_RESULT.search(ep.description):
        found.append("result comes back as text, but the description does not say so")
    if ep.output_type != "text" and "comes back as text" in ep.description:
        found.append(f"says its result is text, but output_type is {ep.output_type}")
    return found


@pytest.mark.parametrize("ep", catalogue.all(), ids=lambda ep: ep.tool_name)
def test_description_agrees_with_task_and_output(ep: catalogue.Endpoint) -> None:
    assert problems(ep) == [], ep.description


def test_the_check_catches_the_song_that_was_a_video_extension() -> None:
    ep = catalogue.get("skyreels_v3_single_shot_video_extension")
    assert ep.task == "video-extend" and problems(ep) == []
    broken = ep.model_copy(update={"description": "Generates a song from a short description with skyreels-v3."})
    found = problems(broken)
    assert any("lacks" in p for p in found) and any("claims to make audio" in p for p in found)


def test_the_check_catches_a_text_result_left_unsaid_and_a_wrong_kind() -> None:
    tts = catalogue.get("sora_upload_character")
    assert tts.output_type == "text" and problems(tts) == []
    assert problems(tts.model_copy(update={"description": "Registers a character from a video for Sora 2."}))
    image = catalogue.get("seedream_v4_text_to_image")
    assert problems(image.model_copy(update={"description": "Generates a video from a text prompt with seedream."}))


def test_generator_names_only_the_endpoints_it_means() -> None:
    # a path that merely contains '/single' or '/custom' is not Suno's song generator
    assert _what("video-extend", "skyreels-v3/single-shot-video-extension", "video") == "Extends an input video"
    assert _what("video-edit", "acme/custom-edit", "video") == "Edits an input video following a text prompt"
    assert "song" in _what("text-to-audio", "rhart-audio/suno-v5/single", "audio")
    assert "lyrics" in _what("text-to-audio", "rhart-audio/suno-v4.5/custom", "audio")
