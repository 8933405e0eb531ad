// The talk page's audio, run on the audio thread: the microphone to 16 kHz PCM frames for the
// call, and the call's 16 kHz PCM to the speaker.

"use strict";

const CALL_RATE = 16000;
const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const KERNEL_PHASES = 64; // steps of the kernel table per input sample
const ZERO_CROSSINGS = 8; // on each side of the kernel's centre
const MAX_QUEUED_SECONDS = 30; // a server paces its audio; this only bounds a faulty one

// A streaming resampler for mono audio. Every output sample is a windowed-sinc low-pass of
// the input evaluated at the output's position, so going down in rate removes what the lower
// rate cannot hold (instead of folding it back as noise), and going up fills in smoothly.
class Resampler {
  constructor(fromRate, toRate) {
    this.step = fromRate / toRate; // input samples per output sample
    // Cutoff a little under the lower rate's Nyquist frequency, in cycles per input sample.
    const cutoff = (0.45 * Math.min(fromRate, toRate)) / fromRate;
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
    const size = this.halfWidth * KERNEL_PHASES + 2;
    this.kernel = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = i / KERNEL_PHASES;
      if (u >= this.halfWidth) break;
      const x = 2 * cutoff * u;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const w = (Math.PI * (u + this.halfWidth)) / this.halfWidth; // Blackman window
      const window = 0.42 - 0.5 * Math.cos(w) + 0.08 * Math.cos(2 * w);
      this.kernel[i] = 2 * cutoff * sinc * window;
    }
    this.reset();
  }

  reset() {
    // Input waits in `buffer` from absolute index `start`; `length` samples are held; the
    // first input sample is preceded by silence, so the output starts at once.
    this.buffer = new Float32Array(4096);
    this.start = -this.halfWidth;
    this.length = this.halfWidth;
    this.position = 0; // where the next output sample sits, in absolute input samples
  }

  // The resampled audio of `input` (a Float32Array), as far as the input allows so far.
  push(input) {
    this.hold(input);
    const end = this.start + this.length;
    const outputs = Math.max(0, Math.ceil((end - this.halfWidth - this.position) / this.step));
    const output = new Float32Array(outputs);
    for (let n = 0; n < outputs; n++) {
      output[n] = this.at(this.position);
      this.position += this.step;
    }
    this.drop(Math.floor(this.position) - this.halfWidth);
    return output;
  }

  at(t) {
    const first = Math.floor(t) - this.halfWidth + 1;
    let sum = 0;
    for (let k = first; k <= first + 2 * this.halfWidth - 1; k++) {
      const phase = Math.abs(t - k) * KERNEL_PHASES;
      const i = Math.floor(phase);
      const frac = phase - i;
      const h = this.kernel[i] + (this.kernel[i + 1] - this.kernel[i]) * frac;
      sum += this.buffer[k - this.start] * h;
    }
    return sum;
  }

  hold(input) {
    if (this.length + input.length > this.buffer.length) {
      const grown = new Float32Array(2 * (this.length + input.length));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(input, this.length);
    this.length += input.length;
  }

  drop(before) {
    const count = Math.min(this.length, before - this.start);
    if (count <= 0) return;
    this.buffer.copyWithin(0, count, this.length);
    this.length -= count;
    this.start += count;
  }
}

// On the audio thread the processors extend AudioWorkletProcessor; loaded in a page (where
// the resampler is tested) that class does not exist, and nothing is registered.
const Processor = globalThis.AudioWorkletProcessor ?? class {};

// The microphone: the first channel, resampled to 16 kHz, posted as 20 ms frames of 16-bit
// little-endian PCM (ArrayBuffers, transferred). {type: "stop"} ends it.
class CaptureProcessor extends Processor {
  constructor() {
    super();
    this.resampler = new Resampler(sampleRate, CALL_RATE);
    this.newFrame();
    this.stopped = false;
    this.port.onmessage = (event) => {
      if (event.data && event.data.type === "stop") this.stopped = true;
    };
  }

  newFrame() {
    this.frame = new ArrayBuffer(2 * FRAME_SAMPLES);
    this.view = new DataView(this.frame);
    this.filled = 0;
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // the microphone is not live yet
    const samples = this.resampler.push(channels[0]);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      this.view.setInt16(2 * this.filled, Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), true);
      this.filled += 1;
      if (this.filled === FRAME_SAMPLES) {
        this.port.postMessage(this.frame, [this.frame]);
        this.newFrame();
      }
    }
    return true;
  }
}

// The speaker: a queue of the call's audio, resampled to the context's rate as it arrives.
// Messages in: an ArrayBuffer of 16-bit little-endian PCM to queue, {type: "clear"} to drop
// everything queued at once, {type: "finish"} to be told (with {type: "drained"}) when the
// queue has played out. Messages out: {type: "played", samples} now and then, counting the
// output samples taken from the queue.
class PlaybackProcessor extends Processor {
  constructor() {
    super();
    this.resampler = new Resampler(CALL_RATE, sampleRate);
    this.queue = [];
    this.offset = 0; // into queue[0]
    this.queued = 0;
    this.played = 0;
    this.reported = 0;
    this.finishing = false;
    this.port.onmessage = (event) => this.receive(event.data);
  }

  receive(data) {
    if (data instanceof ArrayBuffer) {
      const view = new DataView(data);
      const pcm = new Float32Array(data.byteLength >> 1);
      for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(2 * i, true) / 0x8000;
      const samples = this.resampler.push(pcm);
      if (samples.length === 0) return;
      if (this.queued + samples.length > MAX_QUEUED_SECONDS * sampleRate) return;
      this.queue.push(samples);
      this.queued += samples.length;
    } else if (data && data.type === "clear") {
      this.queue = [];
      this.offset = 0;
      this.queued = 0;
      this.resampler.reset();
    } else if (data && data.type === "finish") {
      this.finishing = true;
    }
  }

  process(_inputs, outputs) {
    const output = outputs[0][0];
    let written = 0;
    while (written < output.length && this.queue.length > 0) {
      const head = this.queue[0];
      const count = Math.min(output.length - written, head.length - this.offset);
      output.set(head.subarray(this.offset, this.offset + count), written);
      written += count;
      this.offset += count;
      if (this.offset === head.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    output.fill(0, written);
    for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(output);
    this.queued -= written;
    this.played += written;
    const due = this.played - this.reported >= sampleRate / 10;
    if (due || (written === 0 && this.played !== this.reported)) {
      this.reported = this.played;
      this.port.postMessage({ type: "played", samples: this.played });
    }
    if (this.finishing && this.queued === 0) {
      this.port.postMessage({ type: "drained" });
      return false;
    }
    return true;
  }
}

if (typeof registerProcessor === "function") {
  registerProcessor("talk-capture", CaptureProcessor);
  registerProcessor("talk-playback", PlaybackProcessor);
}
