// The talk page: joins the web call whose URL is the page's fragment (/talk#<web_call_url>),
// with the browser's microphone and speaker, and shows the conversation as it goes.
//
// Audio goes both ways as binary WebSocket frames of 16-bit little-endian mono PCM at 16 kHz;
// the two AudioWorklets in talk-worklet.js capture and play it. /talk?mode=text joins without
// audio, for typing only.

"use strict";

(() => {
  const WORKLET = "/talk/talk-worklet.js";
  const MAX_UNSENT_BYTES = 5 * 32000; // five seconds of microphone audio waiting on the network
  const DRAIN_SECONDS = 5; // at most this long for the last words to play after the call ends

  const ui = {};
  for (const id of ["status", "notice", "start", "hangup", "transcript", "empty", "compose", "message", "send"]) {
    ui[id] = document.getElementById(id);
  }

  // What a test (or a curious person, in the console) can read about the call's traffic.
  const counters = { sentFrames: 0, receivedFrames: 0, playedSamples: 0, playedSeconds: 0 };
  window.clarionTalk = counters;

  const textOnly = new URLSearchParams(location.search).get("mode") === "text";

  let socket = null;
  let audio = null;
  let ended = false;
  let assistantTurn = null; // the assistant's turn being written or spoken
  let userTurn = null; // the person's words being heard

  // The call's WebSocket URL from the fragment, or why there is none. Never shows the URL:
  // it holds the call's token.
  function callAddress() {
    let raw = location.hash.slice(1).trim();
    if (!raw) {
      return { problem: "There is no call to join. Open this page as /talk#<web_call_url>, with the web_call_url of a call created with the API." };
    }
    if (/^wss?%3A/i.test(raw)) {
      try {
        raw = decodeURIComponent(raw);
      } catch {
        // left as it is; the check below says what is wrong
      }
    }
    let url;
    try {
      url = new URL(raw);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== "ws:" && url.protocol !== "wss:")) {
      return { problem: "The address after # is not a call's web_call_url: it must start with ws:// or wss://." };
    }
    if (!textOnly) url.searchParams.set("audio", "pcm16");
    return { url: url.href };
  }

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  function showNotice(text) {
    ui.notice.textContent = text;
    ui.notice.hidden = false;
  }

  function setInCall(inCall) {
    ui.hangup.disabled = !inCall;
    ui.message.disabled = !inCall;
    ui.send.disabled = !inCall;
  }

  // --- the conversation as text

  function newTurn(role) {
    const item = document.createElement("li");
    item.className = `turn ${role}`;
    const speaker = document.createElement("span");
    speaker.className = "speaker";
    speaker.textContent = role === "assistant" ? "Assistant" : "You";
    const text = document.createElement("span");
    text.className = "text";
    item.append(speaker, text);
    ui.transcript.append(item);
    ui.empty.hidden = true;
    return item;
  }

  function textOf(turn) {
    return turn.querySelector(".text");
  }

  function scrollToEnd() {
    ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function onAssistantDelta(text) {
    if (!assistantTurn) {
      // Words only half heard and then let go (a cough, a noise) are not the person's turn.
      if (userTurn && userTurn.classList.contains("interim")) userTurn.remove();
      userTurn = null;
      assistantTurn = newTurn("assistant");
      // Captions ahead of the voice, until the turn's message says what was heard.
      assistantTurn.classList.add("speaking");
    }
    textOf(assistantTurn).textContent += text;
    scrollToEnd();
  }

  // The turn as the person heard it (cut short when they spoke over it) replaces the pieces.
  function onAssistantMessage(text) {
    const turn = assistantTurn || newTurn("assistant");
    turn.classList.remove("speaking");
    textOf(turn).textContent = text;
    if (!text) turn.remove();
    assistantTurn = null;
    scrollToEnd();
  }

  function onUserTranscript(text, final) {
    userTurn = userTurn || newTurn("user");
    textOf(userTurn).textContent = text;
    userTurn.classList.toggle("interim", !final);
    if (final) {
      if (!text) userTurn.remove();
      userTurn = null;
    }
    scrollToEnd();
  }

  function onClear() {
    if (audio) audio.playback.port.postMessage({ type: "clear" });
    if (assistantTurn) assistantTurn.classList.add("cut");
  }

  function onFrame(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    switch (frame.type) {
      case "call-started":
        setStatus("in-call", "In call");
        setInCall(true);
        break;
      case "assistant-delta":
        onAssistantDelta(String(frame.text ?? ""));
        break;
      case "assistant-message":
        onAssistantMessage(String(frame.text ?? ""));
        break;
      case "user-transcript":
        onUserTranscript(String(frame.text ?? ""), frame.final === true);
        break;
      case "clear":
        onClear();
        break;
      case "error":
        showNotice(String(frame.message ?? "The server could not take what was sent."));
        break;
      case "call-ended":
        ended = true;
        setStatus("ended", `Ended: ${frame.ended_reason}`);
        setInCall(false);
        break;
    }
  }

  // --- audio

  async function openAudio() {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
    const context = new AudioContext({ latencyHint: "interactive" });
    try {
      await context.audioWorklet.addModule(WORKLET);
      const microphone = context.createMediaStreamSource(stream);
      // No outputs: the browser runs it for its input alone. One channel: a stereo
      // microphone is mixed down.
      const capture = new AudioWorkletNode(context, "talk-capture", {
        numberOfInputs: 1,
        numberOfOutputs: 0,
        channelCount: 1,
        channelCountMode: "explicit",
      });
      const playback = new AudioWorkletNode(context, "talk-playback", {
        numberOfInputs: 0,
        numberOfOutputs: 1,
        outputChannelCount: [1],
      });
      capture.port.onmessage = (event) => sendAudio(event.data);
      playback.port.onmessage = (event) => onPlayback(event.data, context);
      microphone.connect(capture);
      playback.connect(context.destination);
      await context.resume();
      return { stream, context, microphone, capture, playback, drained: null };
    } catch (error) {
      stream.getTracks().forEach((track) => track.stop());
      context.close();
      throw error;
    }
  }

  function sendAudio(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN || ended) return;
    // A stalled network would otherwise let the person's words pile up, ever later.
    if (socket.bufferedAmount > MAX_UNSENT_BYTES) return;
    socket.send(frame);
    counters.sentFrames += 1;
  }

  function onPlayback(message, context) {
    if (message.type === "played") {
      counters.playedSamples = message.samples;
      counters.playedSeconds = message.samples / context.sampleRate;
    } else if (message.type === "drained" && audio && audio.drained) {
      audio.drained();
    }
  }

  // Stop the microphone at once; let what is queued for the speaker play out, then close.
  function closeAudio() {
    if (!audio) return;
    const current = audio;
    current.stream.getTracks().forEach((track) => track.stop());
    current.capture.port.postMessage({ type: "stop" });
    current.microphone.disconnect();
    const close = () => {
      if (current.context.state !== "closed") current.context.close();
    };
    current.drained = close;
    current.playback.port.postMessage({ type: "finish" });
    setTimeout(close, DRAIN_SECONDS * 1000);
  }

  function microphoneProblem(error) {
    if (!window.isSecureContext) {
      return "The microphone can only be used on a secure page: open this page over https (or on localhost).";
    }
    if (error && error.name === "NotAllowedError") {
      return "The microphone is blocked. Allow this page to use it in the browser's site settings, then start the call again.";
    }
    if (error && error.name === "NotFoundError") {
      return "No microphone was found. Connect one, then start the call again.";
    }
    return "The microphone or speaker could not be opened in this browser.";
  }

  // --- the call

  async function startCall() {
    const address = callAddress();
    if (address.problem) {
      showNotice(address.problem);
      return;
    }
    ui.start.disabled = true;
    ui.notice.hidden = true;
    setStatus("connecting", "Connecting…");
    if (!textOnly) {
      try {
        if (!navigator.mediaDevices || !window.AudioWorkletNode) throw new Error("no media");
        audio = await openAudio();
      } catch (error) {
        showNotice(microphoneProblem(error));
        setStatus("idle", "Not connected");
        ui.start.disabled = false;
        return;
      }
    }
    socket = new WebSocket(address.url);
    socket.binaryType = "arraybuffer";
    let opened = false;
    socket.onopen = () => {
      opened = true;
      ui.hangup.disabled = false;
    };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        onFrame(event.data);
      } else {
        counters.receivedFrames += 1;
        if (audio) audio.playback.port.postMessage(event.data, [event.data]);
      }
    };
    socket.onclose = (event) => {
      if (!ended) {
        ended = true;
        if (!opened) {
          setStatus("ended", "Not connected");
          showNotice("Could not join the call: it may have ended already, or its link is not valid.");
        } else {
          setStatus("ended", event.code === 1000 ? "Ended" : "Ended: the connection was lost");
        }
      }
      setInCall(false);
      closeAudio();
    };
  }

  function hangUp() {
    ui.hangup.disabled = true;
    if (socket && socket.readyState === WebSocket.OPEN) {
      setStatus("ending", "Ending…");
      socket.send(JSON.stringify({ type: "hangup" }));
    } else if (socket) {
      socket.close();
    }
  }

  function sendMessage(event) {
    event.preventDefault();
    const text = ui.message.value.trim();
    if (!text || !socket || socket.readyState !== WebSocket.OPEN || ended) return;
    socket.send(JSON.stringify({ type: "user-message", text }));
    textOf(newTurn("user")).textContent = text;
    scrollToEnd();
    ui.message.value = "";
    ui.message.focus();
  }

  function ready() {
    const address = callAddress();
    if (address.problem) {
      setStatus("idle", "No call");
      showNotice(address.problem);
      ui.start.disabled = true;
      return;
    }
    ui.notice.hidden = true;
    setStatus("idle", textOnly ? "Ready (typing only)" : "Ready");
    ui.start.disabled = false;
  }

  ui.start.addEventListener("click", startCall);
  ui.hangup.addEventListener("click", hangUp);
  ui.compose.addEventListener("submit", sendMessage);
  window.addEventListener("hashchange", () => {
    if (!socket) ready();
  });
  ready();
})();
