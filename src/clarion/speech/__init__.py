"""Speech: hearing and speaking on a live call.

A :class:`~clarion.speech.transcriber.Transcriber` turns what the person says into text, an
utterance at a time; a :class:`~clarion.speech.voice.Voice` turns the assistant's words into
audio as they are made. Both speak 16-bit mono PCM at 16,000 Hz (clarion.speech.audio), the
rate every channel is fed and feeds. Providers are reached over their public APIs on the
process's shared session; the offline ones (``local``, ``espeak``) run off the event loop.
"""
