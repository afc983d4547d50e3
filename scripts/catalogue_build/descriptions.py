"""Our own words: the LLM-facing description of every endpoint and every param.

Nothing here is copied from the registry (its prose is not ours to reuse; the reference folder's
SOURCE.md): descriptions are templates filled with facts. A param's text is ``PARAM_TEXT`` (by
fieldKey, or by friendly name for ``##`` keys) with its limits appended from the data; an endpoint's is
what it makes from what (``_what``: a task template, or ``_WHAT_SPECIALS`` where the task says too
little), then its channel, LoRA support and other notes. ``COMPLEX_TEXT`` describes the COMPLEX fields
of ``runninghub-endpoints.md`` ("COMPLEX fields missing from the registry"), whose inner shape is not
published. ``tests/test_descriptions.py`` checks each description against its task and output type.
"""

from __future__ import annotations

import re
from typing import Any

PARAM_TEXT: dict[str, str] = {
    "prompt": "Text prompt describing the desired output.",
    "negativePrompt": "What the output should avoid (negative prompt).",
    "negative_prompt": "What the output should avoid (negative prompt).",
    "text": "Text to speak.",
    "textPrompt": "Optional text guidance for the world.",
    "texturePrompt": "Text guiding the texture.",
    "lyrics": "Song lyrics.",
    "tags": "Comma-separated style tags.",
    "title": "Song title.",
    "description": "Free-text description.",
    "aspectRatio": "Output aspect ratio.",
    "aspect_ratio": "Output aspect ratio.",
    "ratio": "Output aspect ratio.",
    "resolution": "Output resolution.",
    "size": "Output size (width*height).",
    "targetResolution": "Target resolution.",
    "duration": "Output duration in seconds.",
    "seed": "Random seed for reproducible results.",
    "width": "Output width in pixels.",
    "height": "Output height in pixels.",
    "custom_width": "Output width in pixels (used when the aspect ratio is 'custom').",
    "custom_height": "Output height in pixels (used when the aspect ratio is 'custom').",
    "quality": "Output quality.",
    "model": "Model version to use.",
    "mode": "Generation mode (quality tier).",
    "style": "Style preset.",
    "styleName": "Target video style.",
    "effect": "Effect preset.",
    "imageUrl": "Input image",
    "imageUrls": "Input images",
    "image": "Input image",
    "firstImageUrl": "First-frame image",
    "lastImageUrl": "Last-frame image",
    "endImageUrl": "Last-frame image",
    "firstFrameUrl": "First-frame image",
    "lastFrameUrl": "Last-frame image",
    "first_frame": "First-frame image",
    "last_frame": "Last-frame image",
    "referenceImageUrl": "Style reference image",
    "elementReferList": "Extra reference images of the element",
    "frontImageUrl": "Front view image",
    "backImageUrl": "Back view image",
    "leftImageUrl": "Left view image",
    "rightImageUrl": "Right view image",
    "topImageUrl": "Top view image",
    "bottomImageUrl": "Bottom view image",
    "leftFrontImageUrl": "Left-front view image",
    "rightFrontImageUrl": "Right-front view image",
    "textureImageUrl": "Optional texture guide image",
    "cref": "Character reference image",
    "sref": "Style reference image",
    "oref": "Omni reference image",
    "videoUrl": "Input video",
    "videoUrls": "Reference videos",
    "videos": "Reference videos",
    "video": "Input video",
    "audioUrl": "Input audio",
    "audioUrls": "Reference audio clips",
    "audio": "Input audio",
    "sound": "Generate sound together with the video.",
    "generateAudio": "Generate an audio track with the video.",
    "generateAudioSwitch": "Generate an audio track with the video.",
    "enableAudio": "Generate an audio track with the video.",
    "bgm": "Add background music.",
    "keepOriginalSound": "Keep the input video's original sound.",
    "cameraFixed": "Keep the camera fixed.",
    "enablePromptExpansion": "Let the service rewrite/expand the prompt.",
    "promptExtend": "Let the service rewrite/expand the prompt.",
    "promptOptimizer": "Let the service optimise the prompt.",
    "multiShot": "Generate a multi-shot video (then the per-shot prompts apply instead of 'prompt').",
    "shotType": "Shot structure (single or multi-shot).",
    "generateMultiClipSwitch": "Generate a multi-clip video.",
    "movementAmplitude": "Amount of motion in the video.",
    "cfgScale": "How strictly to follow the prompt (CFG scale).",
    "guidanceScale": "How strictly to follow the prompt (guidance scale).",
    "storyboard": "Storyboard mode.",
    "realPersonMode": "Real-person mode for inputs showing real people.",
    "conversionSlots": "Which input slots to convert to assets in real-person mode.",
    "returnLastFrame": "Also return the last frame as an image.",
    "webSearch": "Let the model use web search.",
    "n": "Number of images to generate.",
    "imageNum": "Number of images to generate.",
    "maxImages": "Maximum number of images to generate.",
    "sequentialImageGeneration": "Generate a related image sequence ('auto') or a single image ('disabled').",
    "outputFormat": "Output file format.",
    "output_format": "Output file format.",
    "background": "Background handling (e.g. transparent).",
    "inputFidelity": "How closely to preserve details of the input images.",
    "thinkingMode": "Let the model reason before generating (slower, better).",
    "thinkingType": "Prompt reasoning mode.",
    "toolsType": "Extra tool mode.",
    "voice_id": "Voice id (a system voice such as Wise_Woman, or a cloned voice id).",
    "voiceId": "Voice id.",
    "custom_voice_id": "Id for the cloned voice: 8+ letters and digits, starting with a letter.",
    "voiceLanguage": "Language of the voice.",
    "voiceSpeed": "Speech speed.",
    "speed": "Speech speed (1 = normal).",
    "volume": "Output volume (1 = normal).",
    "pitch": "Pitch shift in semitones.",
    "emotion": "Emotion of the voice.",
    "pronunciation_dict": "Pronunciation overrides, each 'word/how to say it'.",
    "enable_base64_output": "Return the audio as base64 instead of a URL.",
    "english_normalization": "Normalise English text (numbers, abbreviations) before speaking.",
    "need_noise_reduction": "Denoise the sample before cloning.",
    "need_volume_normalization": "Normalise the sample's volume before cloning.",
    "accuracy": "Text-matching accuracy threshold for the sample.",
    "language_boost": "Language or dialect to favour.",
    "previewText": "Text for the preview audio.",
    "aigcWatermark": "Add an AI-generated marker to the preview audio.",
    "make_instrumental": "Instrumental only, no vocals ('true'/'false').",
    "bitrate": "Audio bitrate.",
    "sampleRate": "Audio sample rate in Hz.",
    "requestType": "What to generate: 'mesh' (geometry only) or 'both' (geometry and texture).",
    "face": "Target face count of the mesh.",
    "faceCount": "Target face count of the mesh.",
    "targetPolycount": "Target polygon count.",
    "enablePbr": "Generate PBR materials.",
    "generateType": "Generation type.",
    "topology": "Mesh topology.",
    "symmetryMode": "Symmetry mode.",
    "shouldRemesh": "Remesh the result.",
    "shouldTexture": "Generate textures.",
    "taPose": "Output the character in A/T pose.",
    "artStyle": "Art style.",
    "isPano": "The input image is already a panorama.",
    "disableRecaption": "Use textPrompt verbatim instead of an automatic caption.",
    "reconstructImages": "Reconstruction mode (needed for more than 4 images).",
    "displayName": "Display name of the world.",
    "permissionPublic": "Make the world public.",
    "permissionAllowIdAccess": "Allow access by id.",
    "permissionAllowedReaders": "Comma-separated user ids/emails allowed to read.",
    "permissionAllowedWriters": "Comma-separated user ids/emails allowed to write.",
    "fileName": "File name including extension.",
    "kind": "Kind of media ('image' or 'video'); must match the file.",
    "extension": "File extension without the dot.",
    "chaos": "Variety of the results.",
    "stylize": "Strength of the artistic style.",
    "weird": "Unconventional, quirky look.",
    "raw": "Raw mode (less automatic styling).",
    "tile": "Make a seamless repeating tile.",
    "iw": "Weight of the image prompt.",
    "cw": "Weight of the character reference (needs cref).",
    "sw": "Weight of the style reference (needs sref).",
    "sv": "Style reference version.",
    "ow": "Weight of the omni reference (needs oref).",
    "stop": "Stop generation early (percent) for a softer look.",
    "motion": "Amount of motion.",
    "loop": "Make the video loop (last frame equals first).",
    "characterOrientation": "Follow the character's orientation from the 'image' or the 'video'.",
    "sessionId": "Session id returned by the face-identification endpoint.",
    "faceId": "Face id returned by the face-identification endpoint.",
    "audioId": "Audio id from the Kling TTS endpoint (instead of audioUrl).",
    "videoId": "Id of a Kling-generated video (instead of videoUrl).",
    "soundStartTime": "Audio crop start in milliseconds.",
    "soundEndTime": "Audio crop end in milliseconds.",
    "soundInsertTime": "Where the cropped audio starts in the video, in milliseconds.",
    "soundVolume": "Volume of the added audio.",
    "originalAudioVolume": "Volume of the video's original audio.",
    "audioSetting": "Audio handling: automatic or keep the original.",
    "cutType": "How the shot switches.",
    "options": "Model version.",
    "strength": "Strength of the style transfer.",
    "scale": "Upscale factor.",
    "upscale": "Upscale factor.",
    "shortEdgeSize": "Target short-edge size in pixels (-1 = no limit).",
    "longEdgeSize": "Target long-edge size in pixels (-1 = no limit).",
    "textureLevel": "Texture richness.",
    "creativityLevel": "Creativity (0 = most conservative).",
    "subjectDetection": "Which subject to detect and enhance.",
    "faceEnhancement": "Enhance faces.",
    "faceEnhancementCreativity": "Creativity of the face enhancement.",
    "faceEnhancementStrength": "Strength of the face enhancement.",
    "targetFps": "Target frame rate.",
    "name": "Name of the element.",
    "lora_name": "LoRA file name to apply (optional).",
    "lora_strength": "LoRA strength (1 = full).",
}

# COMPLEX fields the registry omits (runninghub-endpoints.md, "COMPLEX fields missing from the registry").
JSON_NOTE = "Inner shape not published; passed through as JSON."
COMPLEX_TEXT = {
    "multiPrompt": "Per-shot prompts for multi-shot videos (with multiShot=true).",
    "elementList": "Kling elements (reusable subjects) to include.",
    "tagList": "Tags for the element.",
    "refImages": "Reference image groups (up to 3, all of one type).",
    "refVideos": "Reference video (at most one, up to 15 s).",
}

# Param types that are uploads (files, URLs); their text says how to pass them.
MEDIA_WORD = {"image": "image", "video": "video", "audio": "audio"}


def _fmt(v: float | int) -> str:
    """A number as people write it (``5``, not ``5.0``)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)


def _words(key: str) -> str:
    """A key as lowercase words (``negativePrompt`` -> ``negative prompt``; ``12##file_type`` -> ``file type``)."""
    k = key.split("##")[-1]
    k = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", k).replace("_", " ")
    return k.lower().strip()


def param_description(p: dict[str, Any], lookup: str) -> str:
    """Our own LLM-facing text for one param (``lookup`` is the fieldKey or, for '##' keys, the name)."""
    t = p["type"]
    base = PARAM_TEXT.get(lookup)
    if t in MEDIA_WORD:
        noun = base or _words(lookup).capitalize()
        noun = noun.rstrip(".")
        where = (
            "list of public URLs, data URIs or local file paths"
            if p.get("multiple")
            else "public URL, data URI or local file path"
        )
        if p.get("multiple") and p.get("max_items"):
            noun += f" (up to {p['max_items']})"
        text = f"{noun}: {where}"
        limits = []
        if p.get("accept"):
            limits.append("/".join(p["accept"]))
        if p.get("max_size_mb"):
            limits.append(f"≤{_fmt(p['max_size_mb'])} MB")
        if limits:
            text += "; " + ", ".join(limits)
        text += "."
        if p.get("media_ref") == "file_name":
            text += " Uploaded first; the API receives the upload's file name."
        return text
    if base is None:
        w = _words(lookup)
        if t == "bool":
            base = f"{w.capitalize()} (true/false)."
        elif t == "lora":
            base = "LoRA file name to apply."
        else:
            base = f"{w.capitalize()}."
    text = base
    if t == "string" and p.get("multiple"):
        text += " Several values may be given" + (f" (up to {p['max_items']})." if p.get("max_items") else ".")
    if t == "list" and p.get("multi_select"):
        text += " Several options may be selected."
    if p.get("max_length") and t == "string":
        text += f" Max {p['max_length']} characters."
    if t in ("int", "float") and (p.get("min") is not None or p.get("max") is not None):
        lo, hi = p.get("min"), p.get("max")
        if lo is not None and hi is not None:
            text += f" Range {_fmt(lo)} to {_fmt(hi)}."
        elif lo is not None:
            text += f" Minimum {_fmt(lo)}."
        else:
            text += f" Maximum {_fmt(hi)}."
    return text


_MADE = {"image": "images", "video": "videos", "audio": "audio", "3d": "3D models", "text": "text"}


# (regex searched in the API path, what the endpoint does) for endpoints whose task says too little.
# Anchored to the path segment they name: a loose "/single" once matched skyreels-v3's
# single-shot video extension and called it a song generator (issue 13).
_WHAT_SPECIALS: list[tuple[str, str]] = [
    (r"sora-upload-character$", "Registers a character from a video for later Sora 2 videos; returns its id"),
    (r"^kling-elements$", "Creates a reusable Kling element (subject) from images; returns its id"),
    (r"^kling-lip-sync/identify-face$", "Finds faces in a video for Kling lip-sync; returns session and face ids"),
    (r"^kling-lip-sync/lip-sync-video$", "Lip-syncs a face in a video to audio (Kling lip-sync)"),
    (r"^kling-lip-sync/tts$", "Synthesizes speech for Kling lip-sync; returns an audio id"),
    (r"/image-audio-to-video$", "Animates a portrait image speaking to an audio track"),
    (r"/video-fps-increaser$", "Raises a video's frame rate"),
    (r"/voice-design$", "Designs a new voice from a text description"),
    (r"/text-to-audio/music-[^/]+$", "Generates music from a style prompt and lyrics"),
    (r"/text-to-audio/speech-[^/]+$", "Synthesizes speech from text"),
    (r"^rhart-audio/suno/lyrics$", "Writes song lyrics from a description"),
    (r"^rhart-audio/suno[^/]*/single$", "Generates a song from a short description"),
    (r"^rhart-audio/suno[^/]*/custom$", "Generates a song from lyrics, style tags and a title"),
    (r"/multi-image-to-3d$", "Builds a 3D model from multi-view images"),
    (r"/multi-image-to-world$", "Generates an explorable 3D world from several images"),
    (r"/upload-media-asset$", "Registers a media file for Marble world generation; returns an asset reference"),
    (r"/motion-control$", "Transfers the motion of a reference video onto a character image"),
    (r"dreamactor", "Transfers the motion of a reference video onto a character image"),
    (r"/video-restyling$", "Restyles an input video into a preset style"),
    (r"/shot-switching-video-extension$", "Extends a video with a new shot after a cut"),
]


def _what(task: str, path: str, output_type: str) -> str:
    """The front of an endpoint description: what it makes from what."""
    for pattern, text in _WHAT_SPECIALS:
        if re.search(pattern, path):
            return text
    made = _MADE[output_type]
    return {
        "text-to-image": "Generates images from a text prompt",
        "image-to-image": "Edits or transforms input images guided by a text prompt",
        "image-to-video": "Animates an input image into a video",
        "start-end-to-video": "Generates a video that runs from a first to a last frame",
        "reference-to-video": "Generates a video from reference images or clips plus a prompt",
        "text-to-video": "Generates a video from a text prompt",
        "video-edit": "Edits an input video following a text prompt",
        "video-extend": "Extends an input video",
        "video-to-video": "Transforms an input video guided by a prompt and references",
        "video-effects": "Applies a preset effect to make a video",
        "motion-control": "Transfers the motion of a reference video onto a character image",
        "audio-to-video": "Generates a video driven by audio",
        "upscale": f"Upscales and enhances {'a video' if output_type == 'video' else 'an image'}",
        "image-to-3d": "Builds a 3D model from an image",
        "text-to-3d": "Builds a 3D model from a text prompt",
        "image-to-world": "Generates an explorable 3D world from an image",
        "text-to-world": "Generates an explorable 3D world from a text prompt",
        "video-to-world": "Generates an explorable 3D world from a video",
        "image-to-text": "Answers a prompt about input images (vision LLM)",
        "video-to-text": "Answers a prompt about an input video",
        "text-to-text": "Generates a text reply to a prompt (LLM)",
        "text-to-audio": "Generates audio from text",
        "voice-clone": "Clones a voice from an audio sample (returns a preview)",
    }.get(task, f"Makes {made}")


def endpoint_description(ep: dict[str, Any]) -> str:
    """Our own text for one endpoint row (at most 200 characters, or the build fails)."""
    what = _what(ep["task"], ep["path"], ep["output_type"])
    family = ep["model"].split("-")[0]
    named = len(family) > 2 and re.search(rf"\b{re.escape(family)}\b", what.lower())
    text = f"{what}." if named else f"{what} with {ep['model']}."
    if ep["output_type"] == "text" and ep["category"] != "text" and "returns" not in text:
        text += " Result comes back as text."
    if any(p["type"] == "lora" for p in ep["params"]):
        text += " Accepts LoRA files."
    if ep["variant"] == "low-price":
        text += " Low-price channel: cheaper, less stable."
    elif ep["variant"] == "official":
        text += " Official channel: stable, higher price."
    if ep["source"] == "capture" or any("##" in p["key"] for p in ep["params"]):
        text += " Open-source workflow hosted by RunningHub."
    if ep["open_params"]:
        text += " Parameters not published; keys are passed through."
    if ep["deprecated"]:
        text += " Deprecated upstream."
    if len(text) > 200:
        raise SystemExit(f"description too long for {ep['path']}: {text}")
    return text
