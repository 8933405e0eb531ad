"""The transcribers an assistant can name: Deepgram and OpenAI (or a Whisper server speaking
its API) over their public APIs, and ``local``, offline, on the server's own CPUs."""

from clarion.speech.transcribers.deepgram import DeepgramTranscriber
from clarion.speech.transcribers.local import LOCAL_LANGUAGES, LocalRecognizer, LocalTranscriber
from clarion.speech.transcribers.openai import OpenAITranscriber

TRANSCRIBER_PROVIDERS = ("deepgram", "openai", "local")
"""The names an assistant's ``transcriber.provider`` may take."""

__all__ = [
    "LOCAL_LANGUAGES",
    "TRANSCRIBER_PROVIDERS",
    "DeepgramTranscriber",
    "LocalRecognizer",
    "LocalTranscriber",
    "OpenAITranscriber",
]
