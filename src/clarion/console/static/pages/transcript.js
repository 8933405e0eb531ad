// How a call is told in the console: who said what and when, why it ended, and its kind.
// Everything said is set as text: a transcript holds whatever the caller and the model wrote.

import { el } from "../ui.js";

const SPEAKERS = { assistant: "Assistant", user: "Caller" };

/** The values of clarion.calls.endings.EndedReason, in its order, each in plain words. */
export const ENDED_REASONS = [
  ["customer-ended", "the caller hung up"],
  ["assistant-ended", "the assistant ended the call"],
  ["silence-timed-out", "the caller said nothing for too long"],
  ["exceeded-max-duration", "the call reached its maximum duration"],
  ["customer-did-not-answer", "nobody joined or answered in time"],
  ["customer-busy", "the number called was busy"],
  ["twilio-failed-to-connect-call", "Twilio could not connect the call"],
  ["voicemail", "an answering machine took the call"],
  ["manually-canceled", "someone ended the call"],
  ["pipeline-error-llm", "the language model failed"],
  ["pipeline-error-transcriber", "the transcriber failed"],
  ["pipeline-error-voice", "the voice failed"],
  ["pipeline-error", "the server failed the call"],
  ["server-shutdown", "the server stopped during the call"],
  ["worker-died", "the process holding the call died"],
];

const REASON_WORDS = new Map(ENDED_REASONS);

/** Why a call ended, in words with the API's value: "the caller hung up (customer-ended)". */
export function endedReasonText(reason) {
  const words = REASON_WORDS.get(reason);
  return words ? `${words} (${reason})` : String(reason);
}

/** Whether an ended reason says something failed. */
export function failedEnding(reason) {
  return typeof reason === "string" && (reason.startsWith("pipeline-error") || reason.endsWith("-died") || reason.includes("failed"));
}

const CALL_TYPES = { webCall: "Web", outboundPhoneCall: "Outbound phone", inboundPhoneCall: "Inbound phone" };

/** A call's type in words. */
export function callType(type) {
  return CALL_TYPES[type] || type;
}

/** Whether a call is still live (not ended). */
export function isLive(call) {
  return call.call_status !== "ended";
}

/** A length of time in milliseconds as m:ss (h:mm:ss past an hour); m:ss.s with `tenths`. */
export function clock(ms, { tenths = false } = {}) {
  if (ms === null || ms === undefined) return "—";
  const tenthsIn = Math.max(0, Math.round(ms / 100));
  const total = tenths ? Math.floor(tenthsIn / 10) : Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0") + (tenths ? `.${tenthsIn % 10}` : "");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** The conversation's list of messages, named by `label`. */
export function transcriptList(label) {
  return el("ol", { class: "transcript", "aria-label": label });
}

/**
 * One message: who said it, when (text such as "0:05", or null) and what, as text. Returns the
 * item; its `.said` element holds the text, for a message still being written.
 */
export function messageItem(role, text, at = null) {
  const said = el("div", { class: "said" }, text);
  const item = el(
    "li",
    { class: role },
    el("span", { class: "who" }, SPEAKERS[role] || role),
    at === null ? null : el("span", { class: "at" }, at),
    said,
  );
  item.said = said;
  return item;
}
