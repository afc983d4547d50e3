"""The words agents and people use for what RunningHub models do, as data for the search.

Three kinds of entries, all lower-case:

* ``SYNONYMS`` fold a word into the one the catalogue uses (``photo`` -> ``image``, ``clip`` -> ``video``);
* ``PHRASES`` turn a run of words into one token before anything else (``lip sync`` -> ``lipsync``);
* ``INTENTS`` say what a word asks for: *concepts* the catalogue rows carry (``kind:upscale``,
  ``task:image-to-video``, ``out:video``) and how the media nouns around it are meant (``animate this
  photo``: the photo is the input; ``upscale my photo``: the photo is input and output).

``MEDIA_NOUNS`` name the kinds of media; ``IN_MARKERS`` / ``OUT_MARKERS`` / ``FEATURE_MARKERS`` are the
little words that say whether a noun is what the user has (``from a picture``), what they want
(``into a video``) or a property of it (``with sound``). ``STOP_WORDS`` never count for or against a model.

Edit here, not in the scorer, to teach the search a new word; ``tests/test_search.py`` runs the
evaluation set after every change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "FEATURE_MARKERS",
    "INTENTS",
    "IN_MARKERS",
    "MEDIA_NOUNS",
    "OUT_MARKERS",
    "PHRASES",
    "STOP_WORDS",
    "SYNONYMS",
    "Intent",
]

Role = Literal["in", "out", "same"]


@dataclass(frozen=True)
class Intent:
    """What one (canonical) query word asks for.

    ``concepts`` maps a concept every matching row carries to how strongly the word asks for it (1.0 =
    certainly). ``role`` is how media nouns without a marker are read next to this word: ``in`` (what
    the user has: "animate *this photo*"), ``out`` (what they want) or ``same`` (both: "upscale *my
    photo*"). ``note`` is told to the agent when the word matched, e.g. that image editors remove
    backgrounds although no model is called "background remover".
    """

    concepts: dict[str, float] = field(default_factory=dict[str, float])
    role: Role | None = None
    note: str | None = None


STOP_WORDS = frozenset(
    """
    a an the this that these those my our your his her its their me i we you it some any one two
    please can could would should will want need like help let lets i'd i'm get got give
    and or but of on in at by for with without to into from as via per than then also just only
    is are be being been was were do does did done have has had
    what which who whom whose how where when why there here
    model models tool tools ai api app service services endpoint endpoints runninghub rh thing something
    generation generator generators generate generates generated generating make makes making made create
    creates creating created produce produces render renders build builds turn turns use using used
    good best great nice high new very really more most better simple quick short small big
    """.split()
)

# Words that say which side of the task a media noun is on.
IN_MARKERS = frozenset({"from", "using", "my", "this", "these", "that", "our", "existing", "given", "input", "in"})
OUT_MARKERS = frozenset({"into", "to", "as"})
# Creation verbs mark what follows as the output, unless the query's intent says otherwise
# ("make *the picture* move": the picture is the input).
WEAK_OUT_MARKERS = frozenset(
    {"make", "create", "generate", "produce", "render", "draw", "paint", "compose", "write", "get", "build", "design"}
)
FEATURE_MARKERS = frozenset({"with", "of", "for", "without", "and", "plus", "including"})

# Media nouns (after SYNONYMS) -> the kind of media they name.
MEDIA_NOUNS: dict[str, str] = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "3d": "3d",
    "text": "text",
    "world": "world",
}

SYNONYMS: dict[str, str] = {
    **dict.fromkeys(
        """photo photos picture pictures pic pics img imgs images photograph photography selfie portrait
        portraits drawing drawings painting paintings illustration illustrations artwork art poster logo icon
        wallpaper screenshot screenshots still stills frame frames jpg jpeg png webp""".split(),
        "image",
    ),
    **dict.fromkeys("clip clips videos movie movies film films footage animation reel reels mp4 gif".split(), "video"),
    **dict.fromkeys("sound sounds wav mp3 soundtrack".split(), "audio"),
    **dict.fromkeys("mesh meshes glb gltf obj fbx stl 3d-model three-d".split(), "3d"),
    **dict.fromkeys("prompt prompts description descriptions script scripts caption captions words".split(), "text"),
    **dict.fromkeys("worlds environment environments".split(), "world"),
    "songs": "song",
    "voices": "voice",
    "upscaler": "upscale",
    "upscaling": "upscale",
    "upscaled": "upscale",
    "upres": "upscale",
    "animated": "animate",
    "animating": "animate",
    "llms": "llm",
    "effect": "effects",
    "lyric": "lyrics",
    "musics": "music",
}

# Multi-word phrases, longest first when matching; each becomes one token (looked up again in SYNONYMS
# and INTENTS). Written with the words as they appear after lower-casing and splitting on '-', '_', '/'.
PHRASES: dict[tuple[str, ...], str] = {
    ("text", "to", "speech"): "tts",
    ("read", "aloud"): "tts",
    ("voice", "over"): "tts",
    ("lip", "sync"): "lipsync",
    ("lip", "syncing"): "lipsync",
    ("lips", "sync"): "lipsync",
    ("sync", "lips"): "lipsync",
    ("talking", "head"): "avatar",
    ("talking", "avatar"): "avatar",
    ("talking", "photo"): "avatar",
    ("talking", "portrait"): "avatar",
    ("digital", "human"): "avatar",
    ("remove", "background"): "bgremove",
    ("remove", "the", "background"): "bgremove",
    ("background", "removal"): "bgremove",
    ("background", "remover"): "bgremove",
    ("remove", "bg"): "bgremove",
    ("transparent", "background"): "bgremove",
    ("replace", "background"): "bgremove",
    ("try", "on"): "tryon",
    ("dress", "up"): "tryon",
    ("style", "transfer"): "restyle",
    ("in", "the", "style", "of"): "restyle",
    ("super", "resolution"): "upscale",
    ("increase", "resolution"): "upscale",
    ("higher", "resolution"): "upscale",
    ("frame", "rate"): "fps",
    ("frame", "interpolation"): "fps",
    ("slow", "motion"): "fps",
    ("first", "frame"): "keyframes",
    ("last", "frame"): "keyframes",
    ("first", "and", "last"): "keyframes",
    ("start", "and", "end"): "keyframes",
    ("start", "end"): "keyframes",
    ("start", "to", "end"): "keyframes",
    ("end", "frame"): "keyframes",
    ("motion", "transfer"): "motiontransfer",
    ("motion", "control"): "motiontransfer",
    ("transfer", "motion"): "motiontransfer",
    ("dance", "moves"): "motiontransfer",
    ("consistent", "character"): "reference",
    ("character", "consistency"): "reference",
    ("voice", "clone"): "voiceclone",
    ("voice", "cloning"): "voiceclone",
    ("clone", "voice"): "voiceclone",
    ("clone", "my", "voice"): "voiceclone",
    ("custom", "voice"): "voicedesign",
    ("new", "voice"): "voicedesign",
    ("voice", "design"): "voicedesign",
    ("design", "a", "voice"): "voicedesign",
    ("background", "music"): "music",
    ("bring", "to", "life"): "animate",
    ("to", "life"): "animate",
    ("what", "is", "in"): "describe",
    ("what", "happens"): "describe",
    ("language", "model"): "llm",
    ("3d", "world"): "world",
    ("3d", "scene"): "world",
    ("virtual", "world"): "world",
    ("gaussian", "splat"): "world",
    ("multi", "view"): "multiview",
    ("multiple", "views"): "multiview",
    ("front", "and", "back"): "multiview",
    ("several", "views"): "multiview",
    ("low", "cost"): "cheap",
    ("low", "price"): "cheap",
    ("low", "priced"): "cheap",
}

_IMAGE_EDIT_NOTE = (
    "No model here is built only for this; image editors (task image-to-image) do it when the prompt asks, "
    "e.g. 'remove the background'."
)


def _i(role: Role | None = None, note: str | None = None, **concepts: float) -> Intent:
    """Shorthand: ``_i("in", task__image_to_video=1.0)`` is ``Intent({"task:image-to-video": 1.0}, "in")``
    (keyword arguments cannot hold ':' or '-', so '__' stands for ':' and '_' for '-')."""
    return Intent({k.replace("__", ":").replace("_", "-"): v for k, v in concepts.items()}, role, note)


_ANIMATE = _i("in", task__image_to_video=1.0, out__video=1.0)
_UPSCALE = _i("same", kind__upscale=1.0)
_EDIT = _i("same", kind__edit=1.0)
_IMAGE_EDIT = _i("same", _IMAGE_EDIT_NOTE, kind__edit=1.0, out__image=1.0)
_EXTEND = _i("same", kind__extend=1.0, out__video=1.0)
_DESCRIBE = _i("in", kind__understand=1.0, out__text=1.0)
_SPEECH = _i("in", kind__speech=1.0, out__audio=1.0)
_MUSIC = _i(None, kind__music=1.0, out__audio=1.0)
_MOTION = _i("in", kind__motion=1.0, out__video=1.0)
_FPS = _i("same", kind__fps=1.0, out__video=1.0)
_CHAT = _i(None, kind__chat=1.0, out__text=1.0)

INTENTS: dict[str, Intent] = {
    # video from a still
    **dict.fromkeys(("animate", "animates", "move", "moving", "alive", "motionize", "live"), _ANIMATE),
    "i2v": _i("in", task__image_to_video=1.0, in__image=1.0, out__video=1.0),
    "t2v": _i(None, task__text_to_video=1.0, in__text=1.0, out__video=1.0),
    "t2i": _i(None, task__text_to_image=1.0, in__text=1.0, out__image=1.0),
    "txt2img": _i(None, task__text_to_image=1.0, in__text=1.0, out__image=1.0),
    "img2img": _i("same", task__image_to_image=1.0, in__image=1.0, out__image=1.0),
    "i2i": _i("same", task__image_to_image=1.0, in__image=1.0, out__image=1.0),
    "v2v": _i("same", task__video_to_video=1.0, kind__edit=0.6, in__video=1.0, out__video=1.0),
    # making things better or bigger
    **dict.fromkeys(
        (
            "upscale",
            "enhance",
            "enhancer",
            "enhancement",
            "sharpen",
            "sharper",
            "sharpness",
            "deblur",
            "blurry",
            "blur",
            "restore",
            "restoration",
            "4x",
            "2x",
            "8x",
        ),
        _UPSCALE,
    ),
    # ambiguous alone ("a video in 1080p resolution"), so weaker
    **dict.fromkeys(("resolution", "improve", "quality"), _i("same", kind__upscale=0.6)),
    # editing what exists
    **dict.fromkeys(
        ("edit", "edits", "editing", "editor", "modify", "change", "alter", "replace", "adjust", "fix", "combine"),
        _EDIT,
    ),
    **dict.fromkeys(("merge", "blend", "composite", "instruction", "instructions"), _EDIT),
    **dict.fromkeys(
        (
            "bgremove",
            "erase",
            "eraser",
            "inpaint",
            "inpainting",
            "outpaint",
            "outpainting",
            "retouch",
            "cutout",
            "colorize",
            "tryon",
        ),
        _IMAGE_EDIT,
    ),
    **dict.fromkeys(("clothes", "clothing", "outfit", "outfits", "garment", "garments"), _IMAGE_EDIT),
    "remove": _i("same", _IMAGE_EDIT_NOTE, kind__edit=0.8),
    "restyle": _i("same", kind__restyle=1.0, kind__edit=0.8),
    "stylize": _i("same", kind__restyle=1.0, kind__edit=0.8),
    # longer videos, transitions, references, motion
    **dict.fromkeys(("extend", "extension", "continue", "continuation", "longer", "lengthen"), _EXTEND),
    **dict.fromkeys(("keyframes", "keyframe", "transition", "transitions", "morph"), _i("in", kind__transition=1.0)),
    "interpolation": _i("in", kind__transition=0.5, kind__fps=0.5),
    "interpolate": _i("in", kind__transition=0.5, kind__fps=0.5),
    **dict.fromkeys(("reference", "references", "multimodal", "omni"), _i("in", kind__reference=1.0, out__video=0.5)),
    "character": _i(None, kind__reference=0.5, kind__character=0.6, kind__motion=0.4),
    "characters": _i(None, kind__reference=0.5, kind__character=0.6, kind__motion=0.4),
    **dict.fromkeys(
        ("motiontransfer", "dance", "dancing", "mimic", "movements", "movement", "pose", "choreography"), _MOTION
    ),
    "motion": _i("in", kind__motion=0.6, task__image_to_video=0.4, out__video=0.6),
    "copy": _i(None, kind__motion=0.3),
    # faces that speak
    **dict.fromkeys(("lipsync", "dub", "dubbing"), _i("in", kind__lipsync=1.0, out__video=1.0)),
    **dict.fromkeys(
        ("avatar", "avatars", "talk", "talking", "speak", "speaking"),
        _i("in", kind__avatar=1.0, kind__lipsync=0.5, out__video=1.0),
    ),
    # effects, frame rate, video tools
    **dict.fromkeys(("effects", "template", "templates"), _i("in", kind__effects=1.0, out__video=0.5)),
    **dict.fromkeys(("fps", "smooth", "smoother", "framerate", "slowmo", "60fps"), _FPS),
    "element": _i(None, kind__element=1.0),
    "elements": _i(None, kind__element=1.0),
    "cameo": _i(None, kind__character=1.0),
    "asset": _i(None, kind__asset=0.5),
    # 3D and worlds
    "multiview": _i("in", kind__multiview=1.0, out__3d=0.5),
    "views": _i("in", kind__multiview=0.8),
    **dict.fromkeys(("explorable", "panorama", "360", "splat", "immersive"), _i(None, kind__world=1.0)),
    # understanding images and videos
    **dict.fromkeys(
        (
            "describe",
            "describes",
            "caption",
            "captioning",
            "explain",
            "analyze",
            "analyse",
            "analysis",
            "understand",
            "understanding",
            "recognize",
            "identify",
            "ocr",
            "vision",
            "summarize",
            "summarise",
            "summary",
            "tag",
            "classify",
        ),
        _DESCRIBE,
    ),
    "read": _i("in", kind__understand=0.5, out__text=0.5),
    # text
    **dict.fromkeys(("chat", "chatbot", "llm", "assistant", "answer", "question", "ask", "translate"), _CHAT),
    "write": _i(None, kind__chat=0.5, out__text=0.6),
    "rewrite": _CHAT,
    # audio
    **dict.fromkeys(
        ("tts", "speech", "narrate", "narration", "narrator", "voiceover", "aloud", "pronounce", "say"), _SPEECH
    ),
    "voice": _i("in", kind__speech=0.5, kind__voice_clone=0.4, kind__voice_design=0.4, out__audio=1.0),
    "voiceclone": _i("in", kind__voice_clone=1.0, out__audio=1.0),
    "clone": _i("in", kind__voice_clone=1.0),
    "cloning": _i("in", kind__voice_clone=1.0),
    "voicedesign": _i(None, kind__voice_design=1.0, kind__voice_clone=0.3, out__audio=1.0),
    **dict.fromkeys(
        ("song", "music", "melody", "tune", "beat", "beats", "jingle", "instrumental", "bgm", "compose", "singing"),
        _MUSIC,
    ),
    "lyrics": _i(None, kind__lyrics=1.0, kind__music=0.5),
    # channels
    **dict.fromkeys(
        ("cheap", "cheaper", "cheapest", "budget", "affordable", "inexpensive", "lowprice"),
        _i(None, variant__low_price=1.0),
    ),
    **dict.fromkeys(("official", "stable", "reliable", "production"), _i(None, variant__official=1.0)),
    "lora": _i(None, kind__lora=1.0),
    "loras": _i(None, kind__lora=1.0),
}
