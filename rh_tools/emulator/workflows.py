"""The legacy side's catalogue: ComfyUI workflows and AI apps the emulator knows.

Why samples: legacy calls name a workflow or app by id and must fail with 380/901 for unknown ids,
while ``getJsonApiFormat``/``apiCallDemo`` return their definitions. The defaults are small but
shaped like real ones (API-format prompt JSON; nodeInfoList entries with fieldType/fieldData);
``Emulator(workflows=..., webapps=...)`` replaces them.

A workflow is ``{"name": str, "prompt": {<nodeId>: {"class_type", "inputs", "_meta"}}}``;
an app is ``{"name": str, "nodeInfoList": [...], "output": "image"|"video"|..., "quickCreateCodes": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .._guards import is_mapping

__all__ = [
    "SAMPLE_WEBAPP_ID",
    "SAMPLE_WEBAPPS",
    "SAMPLE_WORKFLOWS",
    "SAMPLE_WORKFLOW_ID",
    "SAMPLE_VIDEO_WORKFLOW_ID",
    "workflow_outputs",
]

SAMPLE_WORKFLOW_ID = "1904136902449209346"
SAMPLE_VIDEO_WORKFLOW_ID = "1911111111111111111"
SAMPLE_WEBAPP_ID = "1877265245566922753"

SAMPLE_WORKFLOWS: dict[str, dict[str, Any]] = {
    SAMPLE_WORKFLOW_ID: {
        "name": "sdxl text-to-image (emulator sample)",
        "prompt": {
            "3": {
                "class_type": "KSampler",
                "inputs": {
                    "seed": 156680208700286,
                    "steps": 20,
                    "cfg": 8,
                    "sampler_name": "euler",
                    "scheduler": "normal",
                    "denoise": 1,
                    "model": ["4", 0],
                    "positive": ["6", 0],
                    "negative": ["7", 0],
                    "latent_image": ["5", 0],
                },
                "_meta": {"title": "KSampler"},
            },
            "4": {
                "class_type": "CheckpointLoaderSimple",
                "inputs": {"ckpt_name": "sdxl.safetensors"},
                "_meta": {"title": "Load Checkpoint"},
            },
            "5": {
                "class_type": "EmptyLatentImage",
                "inputs": {"width": 1024, "height": 1024, "batch_size": 1},
                "_meta": {"title": "Empty Latent Image"},
            },
            "6": {
                "class_type": "CLIPTextEncode",
                "inputs": {"text": "a cat in a spacesuit", "clip": ["4", 1]},
                "_meta": {"title": "Positive"},
            },
            "7": {
                "class_type": "CLIPTextEncode",
                "inputs": {"text": "blurry", "clip": ["4", 1]},
                "_meta": {"title": "Negative"},
            },
            "8": {
                "class_type": "VAEDecode",
                "inputs": {"samples": ["3", 0], "vae": ["4", 2]},
                "_meta": {"title": "VAE Decode"},
            },
            "9": {
                "class_type": "SaveImage",
                "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]},
                "_meta": {"title": "Save Image"},
            },
            "10": {
                "class_type": "LoadImage",
                "inputs": {"image": "example.png"},
                "_meta": {"title": "Load Image"},
            },
        },
    },
    SAMPLE_VIDEO_WORKFLOW_ID: {
        "name": "image-to-video (emulator sample)",
        "prompt": {
            "1": {
                "class_type": "LoadImage",
                "inputs": {"image": "example.png"},
                "_meta": {"title": "Load Image"},
            },
            "2": {
                "class_type": "CLIPTextEncode",
                "inputs": {"text": "the camera pans slowly"},
                "_meta": {"title": "Prompt"},
            },
            "3": {
                "class_type": "VHS_VideoCombine",
                "inputs": {"frame_rate": 16, "format": "video/h264-mp4"},
                "_meta": {"title": "Video Combine"},
            },
        },
    },
}

SAMPLE_WEBAPPS: dict[str, dict[str, Any]] = {
    SAMPLE_WEBAPP_ID: {
        "name": "Photo to watercolour (emulator sample)",
        "output": "image",
        "quickCreateCodes": ["001", "002"],
        "nodeInfoList": [
            {
                "nodeId": "10",
                "nodeName": "LoadImage",
                "fieldName": "image",
                "fieldValue": "api/8a1d6f0c4f1e2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b.png",
                "fieldData": None,
                "fieldType": "IMAGE",
                "description": "上传图片",
                "descriptionEn": "Upload image",
            },
            {
                "nodeId": "6",
                "nodeName": "CLIPTextEncode",
                "fieldName": "text",
                "fieldValue": "watercolour painting",
                "fieldData": None,
                "fieldType": "STRING",
                "description": "提示词",
                "descriptionEn": "Prompt",
            },
            {
                "nodeId": "12",
                "nodeName": "RH_Select",
                "fieldName": "select",
                "fieldValue": "1:1",
                "fieldData": json.dumps([{"name": r, "index": r} for r in ("1:1", "16:9", "9:16")]),
                "fieldType": "LIST",
                "description": "比例",
                "descriptionEn": "Aspect ratio",
            },
        ],
    },
}

_VIDEO_NODES = ("video", "vhs_", "savevideo", "createvideo")
_AUDIO_NODES = ("saveaudio", "audio")
_SAVE_NODES = ("saveimage", "previewimage", "savevideo", "vhs_videocombine", "saveaudio", "save")


def workflow_outputs(prompt: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(nodeId, output kind) for every output node of an API-format prompt; at least one."""
    outs: list[tuple[str, str]] = []
    for node_id, node in prompt.items():
        cls = str(node.get("class_type", "")).lower() if is_mapping(node) else ""
        if not any(s in cls for s in _SAVE_NODES) and "videocombine" not in cls:
            continue
        if any(s in cls for s in _VIDEO_NODES):
            kind = "video"
        elif any(s in cls for s in _AUDIO_NODES):
            kind = "audio"
        else:
            kind = "image"
        outs.append((str(node_id), kind))
    return outs or [(str(next(iter(prompt), "9")), "image")]
