"""The offline transcriber's accuracy and cost, on sentences spoken by espeak-ng.

    .venv/bin/python bench/offline_speech.py              # --rounds 3, --processes 1
    .venv/bin/python bench/offline_speech.py --compare    # also the decoder as it ships

It speaks a set of appointment-style sentences in a few espeak-ng voices, recognizes each
through LocalRecognizer (one utterance at a time, so a worker's time is one utterance's
latency), and prints per voice the word error rate, and for all of them the worker's CPU
seconds per second of audio and the time from asking to words per utterance (p50, p99), and
for the sentences lasting close to three seconds. Last, the resident memory of each worker.

espeak-ng varies its voices a little from one run to the next, and pocketsphinx's words with
them; the rounds speak every sentence afresh. ``--compare`` decodes the same audio in this
process with the decoder as pocketsphinx ships it and as the workers tune it.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median

from pocketsphinx import Decoder

from clarion.speech.audio import duration_ms
from clarion.speech.transcribers import LocalRecognizer
from clarion.speech.transcribers.sphinx import DECODER_OPTIONS
from clarion.speech.voices import EspeakVoice

VOICES = ("en-us+f5", "en-us+f2", "en-us+f3", "en-us")
SENTENCES = (
    "i would like to book an appointment for tomorrow morning",
    "can i see doctor smith next tuesday afternoon",
    "i need to cancel my appointment on friday",
    "is there anything available later this week",
    "my date of birth is the third of march",
    "i would like to move my visit to monday at ten",
    "do you have an opening in the evening",
    "i am calling about my prescription refill",
    "can you tell me the address of the clinic",
    "yes that time works for me thank you",
    "no i cannot come in the morning",
    "please call me back at my home number",
    "i have been having headaches for a week",
    "what time does the office open on saturday",
    "i would like to speak to a nurse please",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each sentence is spoken")
    parser.add_argument("--processes", type=int, default=1, help="recognizer worker processes")
    parser.add_argument("--compare", action="store_true", help="also the decoder as shipped")
    args = parser.parse_args()
    asyncio.run(measure(args.rounds, args.processes, args.compare))


async def measure(rounds: int, processes: int, compare: bool) -> None:
    spoken = {voice: [await speak(s, voice) for s in SENTENCES * rounds] for voice in VOICES}
    references = list(SENTENCES * rounds)
    recognizer = LocalRecognizer(processes)
    await recognizer.start()
    workers = [worker.pid for worker in multiprocessing.active_children() if worker.pid]
    latencies: list[tuple[float, float]] = []  # (seconds of audio, seconds to words)
    cpu = audio_seconds = 0.0
    print(f"{'voice':<10} {'WER':>6}   ({rounds} x {len(SENTENCES)} sentences)")
    try:
        for voice, utterances in spoken.items():
            heard = []
            for pcm in utterances:
                cpu_before = sum(cpu_seconds(pid) for pid in workers)
                started = time.perf_counter()
                heard.append(await recognizer.recognize(pcm))
                latencies.append((duration_ms(pcm) / 1000, time.perf_counter() - started))
                cpu += sum(cpu_seconds(pid) for pid in workers) - cpu_before
                audio_seconds += duration_ms(pcm) / 1000
            print(f"{voice:<10} {word_error_rate(references, heard):>6.3f}")
        rss = [resident_mb(pid) for pid in workers]
    finally:
        await recognizer.close()

    waits = [wait for _, wait in latencies]
    near_three = [wait for length, wait in latencies if 2.5 <= length <= 3.5]
    lengths = [length for length, _ in latencies]
    print(f"CPU seconds per second of audio: {cpu / audio_seconds:.3f}")
    print(
        f"per utterance ({median(lengths):.1f} s median): "
        f"p50 {percentile(waits, 50) * 1000:.0f} ms, p99 {percentile(waits, 99) * 1000:.0f} ms"
    )
    if near_three:
        print(
            f"utterances of 2.5-3.5 s ({len(near_three)}): "
            f"p50 {percentile(near_three, 50) * 1000:.0f} ms, "
            f"p99 {percentile(near_three, 99) * 1000:.0f} ms"
        )
    print("worker RSS: " + ", ".join(f"{mb:.0f} MB" for mb in rss))
    if compare:
        compare_decoders(references, spoken)


def compare_decoders(references: list[str], spoken: dict[str, list[bytes]]) -> None:
    """The same audio through the decoder as shipped and as tuned, in this process."""
    print(f"\n{'decoder':<8} " + " ".join(f"{voice:>9}" for voice in spoken) + "  CPU s/s")
    for name, options in (("shipped", {}), ("tuned", DECODER_OPTIONS)):
        decoder = Decoder(loglevel="FATAL", **options)
        rates, cpu, seconds = [], 0.0, 0.0
        for utterances in spoken.values():
            heard = []
            for pcm in utterances:
                started = time.process_time()
                decoder.start_utt()
                decoder.process_raw(pcm, full_utt=True)
                decoder.end_utt()
                cpu += time.process_time() - started
                seconds += duration_ms(pcm) / 1000
                hypothesis = decoder.hyp()
                heard.append(str(hypothesis.hypstr) if hypothesis is not None else "")
            rates.append(word_error_rate(references, heard))
        columns = " ".join(f"{rate:>9.3f}" for rate in rates)
        print(f"{name:<8} {columns}  {cpu / seconds:.3f}")


async def speak(text: str, voice: str) -> bytes:
    return b"".join([chunk async for chunk in EspeakVoice(voice).synthesize(text)])


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Word edits (substitutions, insertions, deletions) over the references' words."""
    edits = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        edits += edit_distance(reference.split(), hypothesis.split())
        words += len(reference.split())
    return edits / words


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    row = list(range(len(hypothesis) + 1))
    for i, expected in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            substitution = diagonal + (expected != heard)
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, substitution)
    return row[-1]


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share / 100 * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
