"""The voices an assistant can speak with, by the provider name its ``voice.provider`` gives.

``11labs`` (also written ``elevenlabs``) and ``openai`` are reached over their public APIs on
the process's shared session; ``espeak`` runs offline, in the process.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from clarion.speech.voices.elevenlabs import ElevenLabsVoice
from clarion.speech.voices.espeak import EspeakVoice
from clarion.speech.voices.openai import OpenAIVoice

VoiceClass = type[ElevenLabsVoice] | type[OpenAIVoice] | type[EspeakVoice]

VOICE_PROVIDERS: Mapping[str, VoiceClass] = MappingProxyType(
    {
        "11labs": ElevenLabsVoice,
        "elevenlabs": ElevenLabsVoice,
        "openai": OpenAIVoice,
        "espeak": EspeakVoice,
    }
)
"""Which class speaks for each provider name."""

__all__ = ["VOICE_PROVIDERS", "ElevenLabsVoice", "EspeakVoice", "OpenAIVoice", "VoiceClass"]
