// Try an assistant: a web call held in the page, typed (the web call's text frames over its
// WebSocket: user-message and hangup out; call-started, assistant-delta, assistant-message,
// error and call-ended in), or spoken on the voice page (/talk), which the call's link opens.
// What the model and the person write is shown as text.

import {
  api, button, el, emptyState, field, fill, heading, link, notice, register, setFieldError,
  showError, statusArea,
} from "../ui.js";
import { assistantSelect, loadAssistants } from "./assistant_picker.js";
import { endedReasonText, messageItem, transcriptList } from "./transcript.js";

/** A web call typed in the page: the conversation as it happens, a message box, "End call". */
function typedCall(place, created) {
  const status = statusArea();
  const transcript = transcriptList("What was said");
  const message = field("Message", el("input", { type: "text", name: "message", autocomplete: "off" }));
  const send = button("Send", null, { kind: "primary", type: "submit" });
  const end = button("End call", () => hangUp(), { kind: "danger" });
  const box = el("form", { class: "message-box", "aria-label": "Answer the assistant" }, message.wrap, send, end);
  let writing = null; // the assistant's turn while its pieces arrive
  let ended = false;

  const callPage = link(`calls/${created.id}`, "The call's page");
  fill(
    place,
    el("h2", {}, `Call ${created.id}`),
    el("p", {}, callPage, el("span", { class: "quiet" }, " (what was said, its analysis and report)")),
    // A log: what is added is announced, as a chat's new lines are.
    el("div", { role: "log", "aria-label": "Conversation" }, transcript),
    box,
    status,
  );

  const socket = new WebSocket(created.web_call_url);

  function over(text, kind) {
    ended = true;
    // The controls are disabled under a keyboard user's focus: it goes on to the call's page.
    const focused = box.contains(document.activeElement);
    for (const control of [message.control, send, end]) control.disabled = true;
    fill(status, notice(text, kind));
    if (focused) callPage.focus();
  }

  function assistantSays(text, whole) {
    if (writing === null) {
      writing = messageItem("assistant", "");
      transcript.append(writing);
    }
    writing.said.textContent = whole ? text : writing.said.textContent + text;
    if (whole) writing = null;
  }

  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      fill(status, notice("The call sent something this page cannot read.", "error"));
      return;
    }
    if (frame.type === "call-started") {
      fill(status, notice("The call has started.", "info"));
      message.control.focus();
    } else if (frame.type === "assistant-delta") {
      assistantSays(String(frame.text), false);
    } else if (frame.type === "assistant-message") {
      assistantSays(String(frame.text), true);
    } else if (frame.type === "error") {
      fill(status, notice(`The call refused that: ${frame.message}`, "error"));
    } else if (frame.type === "call-ended") {
      const detail = frame.failure_detail ? ` What failed: ${frame.failure_detail}.` : "";
      over(`The call ended: ${endedReasonText(frame.ended_reason)}.${detail}`, frame.failure_detail ? "error" : "ok");
    }
  });
  socket.addEventListener("close", (event) => {
    if (ended) return;
    const reason = event.reason ? `: ${event.reason}` : "";
    over(`The connection to the call closed before it ended (code ${event.code}${reason}).`, "error");
  });
  socket.addEventListener("error", () => {
    if (!ended) fill(status, notice("The connection to the call failed.", "error"));
  });

  box.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = message.control.value;
    if (!text.trim()) {
      setFieldError(message, "Type a message to send.");
      message.control.focus();
      return;
    }
    if (socket.readyState !== WebSocket.OPEN) {
      setFieldError(message, "The call is not connected yet.");
      return;
    }
    setFieldError(message, null);
    socket.send(JSON.stringify({ type: "user-message", text }));
    transcript.append(messageItem("user", text));
    message.control.value = "";
    message.control.focus();
  });

  let hangingUp = false;

  // Ends the call once, however often the button is pressed; the controls stay enabled (and
  // focused) until call-ended says it is over.
  async function hangUp() {
    if (hangingUp || ended) return;
    hangingUp = true;
    if (socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "hangup" }));
      return;
    }
    // Not joined (still connecting, or gone): the API ends it.
    try {
      const { body } = await api("POST", `/v1/call/${created.id}/end`);
      over(`The call ended: ${endedReasonText(body.ended_reason)}.`, "ok");
      socket.close(1000);
    } catch (error) {
      showError(status, error);
      hangingUp = false;
    }
  }

  return () => {
    ended = true;
    if (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN) socket.close(1000);
  };
}

/** A web call to speak in: the voice page joins it with the browser's microphone. */
function spokenCall(place, created) {
  fill(
    place,
    el("h2", {}, `Call ${created.id}`),
    el(
      "p",
      {},
      "The voice page joins the call with your microphone and speaker. Open it within a minute: after that the call ends unanswered, and you start another.",
    ),
    el(
      "p",
      { class: "actions" },
      el("a", { class: "button primary", href: created.web_call_page_url, target: "_blank", rel: "noopener" }, "Open the voice page"),
      link(`calls/${created.id}`, "The call's page"),
    ),
  );
  return null;
}

async function tryPage(main) {
  const status = statusArea();
  const place = el("section");
  fill(main, heading("Try an assistant"), status, place);
  let assistants;
  try {
    assistants = await loadAssistants();
  } catch (error) {
    showError(status, error);
    return undefined;
  }
  if (assistants.length === 0) {
    fill(
      place,
      emptyState("No assistants yet", "Create an assistant first, then hold a call with it here.", link("assistants", "Assistants")),
    );
    return undefined;
  }
  const assistant = field("Assistant", assistantSelect(assistants));
  const typed = el("input", { type: "radio", name: "way", value: "typed", checked: true });
  const spoken = el("input", { type: "radio", name: "way", value: "spoken" });
  const way = el(
    "fieldset",
    {},
    el("legend", {}, "How to talk"),
    el(
      "div",
      { class: "choices" },
      el("label", {}, typed, "Type in this page"),
      el("label", {}, spoken, "Speak, on the voice page"),
    ),
  );
  const start = button("Start call", null, { kind: "primary", type: "submit" });
  const form = el(
    "form",
    { class: "card", "aria-label": "Start a call" },
    el("p", {}, "Hold a web call with an assistant, as a caller would. It is a real call: it shows under Calls, with its analysis and report."),
    assistant.wrap,
    way,
    el("div", { class: "actions" }, start),
  );
  main.insertBefore(form, status);
  let leave = null;

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (leave) leave();
    leave = null;
    fill(status);
    start.disabled = true;
    try {
      const { body } = await api("POST", "/v1/call", { body: { assistant_id: Number(assistant.control.value) } });
      leave = typed.checked ? typedCall(place, body) : spokenCall(place, body);
    } catch (error) {
      showError(status, error);
    } finally {
      start.disabled = false;
    }
  });

  return () => {
    if (leave) leave();
  };
}

register({ path: "try", nav: "Try an assistant", role: "editor", title: "Try an assistant", render: tryPage });
