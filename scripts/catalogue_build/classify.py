"""What kind of endpoint a row is: category, task, variant (channel) and model family.

* ``category`` is the sidebar group's (``sidebar.py``), unless the endpoint makes a different kind of
  media; without a group it is the registry ``output_type``.
* ``task`` comes from what the display name or path says it does (``_TASK_RULES``), else the sidebar
  subgroup, else a default per output type.
* ``variant`` from "channel-low-price" / "official" in the name or an ``-official`` first path segment
  (the two channels of ``runninghub-api.md`` section 3.1).
* ``model`` from the display name, with the relabels of ``_MODEL_BY_PATH`` where RunningHub's path
  names a model by another name (section 3.1 lists the ``rhart-*`` relabels).
* ``capture_output_type``: Part-2 endpoints carry no output type; they make images or videos.
"""

from __future__ import annotations

import re

GROUP_CATEGORY = {
    "Video Generation & Processing": "video",
    "3D Generation & Processing": "3d",
    "Audio Generation & Processing": "audio",
    "Image Generation & Processing": "image",
}

# (pattern searched in "<display name> <path>", task) -- first match wins. Names that say what they do
# beat the sidebar subgroup, which misfiles some entries (midjourney text-to-image under image-to-image,
# sora text-to-video-pro under image-to-video, veo video-extend under text-to-video).
_TASK_RULES: list[tuple[str, str]] = [
    (r"kling-lip-sync/tts", "text-to-audio"),
    (r"kling-elements", "video-tools"),
    (r"upload-media-asset", "asset-upload"),
    (r"lip-sync|image-audio-to-video", "audio-to-video"),
    (r"start-end|start-to-end|transition", "start-end-to-video"),
    (r"reference-to-video|refrence-to-video|multimodal-video|omni-reference", "reference-to-video"),
    (r"motion-control", "motion-control"),
    (r"video-extend|video-extension|/extend\b", "video-extend"),
    (r"video-edit|edit-video", "video-edit"),
    (r"video-to-video", "video-to-video"),
    (r"\beffects\b", "video-effects"),
    (r"upscale|hypir", "upscale"),
    (r"image-to-video|\bi2v\b", "image-to-video"),
    (r"text-to-video|\bt2v\b", "text-to-video"),
    (r"text-to-image", "text-to-image"),
    (r"image-to-image|image-edit|/edit\b|/edit-", "image-to-image"),
    (r"image-to-3d", "image-to-3d"),
    (r"text-to-3d", "text-to-3d"),
    (r"image-to-world", "image-to-world"),
    (r"text-to-world", "text-to-world"),
    (r"video-to-world", "video-to-world"),
    (r"image-to-text", "image-to-text"),
    (r"video-to-text", "video-to-text"),
    (r"text-to-text|/chat\b", "text-to-text"),
    (r"voice-clone", "voice-clone"),
    (r"speech-|music|suno|voice-design", "text-to-audio"),
]


def task_for(display: str, path: str, subgroup: str | None, output_type: str, category: str) -> str:
    """What the endpoint does: the first ``_TASK_RULES`` match, else the sidebar subgroup, else a default."""
    hay = f"{display.lower()} {path.lower()}"
    for pattern, task in _TASK_RULES:
        if re.search(pattern, hay):
            return task
    if subgroup:
        return subgroup.lower()
    if category == "video":
        return "video-tools"
    return {
        "image": "text-to-image",
        "video": "text-to-video",
        "audio": "text-to-audio",
        "3d": "image-to-3d",
        "text": "text-to-text",
    }[output_type]


def category_for(group: str | None, output_type: str) -> str:
    """The sidebar group's category, unless the endpoint produces a different kind of media."""
    cat = GROUP_CATEGORY.get((group or "").split("/")[0])
    if cat is None:
        return output_type
    if output_type != "text" and output_type != cat:
        return output_type  # e.g. Vidu-reference-to-video-q2-pro is filed under images but makes video
    return cat


def capture_output_type(group: str | None, path: str) -> str:
    """Part 2 endpoints: output is image or video; the sidebar group (or path) says which."""
    gcat = GROUP_CATEGORY.get((group or "").split("/")[0])
    return gcat or ("video" if "-to-video" in path else "image")


def variant_for(display: str, path: str) -> str | None:
    """The channel: "low-price", "official", or None where neither the name nor the path names one."""
    d = display.lower()
    if "channel-low-price" in d:
        return "low-price"
    if "official" in d or path.split("/")[0].endswith("-official"):
        return "official"
    return None


_PROVIDER_PREFIXES = ("google/", "xai/", "alibaba/", "bytedance/", "runwayml/")
_TASK_CUT = re.compile(
    r"-(?:image-to-video|text-to-video|start-end-to-video|reference-to-video|text-to-image|"
    r"image-to-image|motion-control|i2v|t2v|effects|transition)(?=-|$)"
)
# Words after the model segment that name a tier or a release of the same model ("sora-2/...-pro-..." is
# Sora 2 Pro, "qwen-image/edit-2511" is the 2511 release); everything else there is task or channel.
_TIER_WORDS = {"standard", "std", "pro", "fast", "ultra", "turbo", "flash", "lite"}
# Paths whose public model name is not in their display name (RunningHub relabels), by path prefix.
_MODEL_BY_PATH: list[tuple[str, str]] = [
    ("rhart-text-g-25-flash-cv/", "gemini-2.5-flash-cv"),
    ("rhart-text-g-25-flash/", "gemini-2.5-flash"),
    ("rhart-text-g-25-pro-cv/", "gemini-2.5-pro-cv"),
    ("rhart-text-g-25-pro/", "gemini-2.5-pro"),
    ("rhart-text-g-3-flash-preview-cv/", "gemini-3-flash-preview-cv"),
    ("rhart-text-g-3-flash-preview/", "gemini-3-flash-preview"),
    ("rhart-text-g-3-pro-preview-cv/", "gemini-3-pro-preview-cv"),
    ("rhart-text-g-3-pro-preview/", "gemini-3-pro-preview"),
    ("rhart-text-qwen-27b/", "qwen-27b"),
    ("rhart-audio/suno-v4.5/", "suno-v4.5"),
    ("rhart-audio/suno-v5.5/", "suno-v5.5"),
    ("rhart-audio/suno-v5/", "suno-v5"),
    ("rhart-audio/suno/", "suno"),
    ("rhart-image-g-2", "gpt-image-2"),  # low-price rows say "gpt-image-2.0", official rows "gpt-image-2"
    ("rhart-image-g-3/", "grok-3-image"),
    ("rhart-image-g-4/", "grok-4-image"),
    ("kling-v3-4k/", "kling-v3.0-4k"),  # one row says "kling-v3-4k", its sibling "kling-v3.0-4k"
    ("topazlabs/video", "topaz-video-upscale"),
    ("topazlabs/", "topaz-image-upscale"),
    ("image-enhance/hypir", "hypir"),
    ("rhart-video/video-", "rh-video-tools"),
    ("rhart-video-s-official/sora-upload-character", "sora-2"),
    ("rhart-video-s/sora-upload-character", "sora-2"),
    ("bytedance/dreamactor-v2", "dreamactor-v2"),
    ("kling-elements", "kling"),
    ("kling-lip-sync/", "kling-lip-sync"),
    ("rhart-video/wan-2.2/", "wan-2.2"),
    ("rhart-image/z-image-turbo/", "z-image-turbo"),
    ("rhart-image/z-image/", "z-image-turbo"),
    ("rhart-video/ltx-2/", "ltx-2-19b"),
]


def model_for(display: str, path: str) -> str:
    """Short model family for people, from the display name (with a few relabels by path)."""
    for prefix, model in _MODEL_BY_PATH:
        if path.startswith(prefix):
            return model
    n = display.strip().lower()
    for prefix in _PROVIDER_PREFIXES:
        if n.startswith(prefix):
            n = n[len(prefix) :]
            break
    segs = n.split("/")
    if segs[0] in ("minimax", "higgsfield") and len(segs) > 1:
        segs = [f"{segs[0]}-{segs[1]}", *segs[2:]]
    head = segs[0]
    if len(segs) == 1:
        m = _TASK_CUT.search(head)
        if m:  # "kling-v2.6-pro-image-to-video" -> kling-v2.6-pro; "Vidu-image-to-video-q3-pro" -> vidu-q3-pro
            head = head[: m.start()] + head[m.end() :]
        head = re.sub(r"-(?:channel-low-price|official-stable|official)$", "", head)
        head = re.sub(r"-lora$", "", head)
    else:
        extra = [w for w in re.split(r"[-/]", "-".join(segs[1:])) if w in _TIER_WORDS or re.fullmatch(r"\d{4}", w)]
        head = "-".join([head, *dict.fromkeys(extra)])
    return re.sub(r"\s+", "-", head)
