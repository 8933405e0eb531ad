// A webhook delivery as the console shows it, on its own page and on its call's: its status,
// what it is, and each attempt with what the receiver answered (another server's words, shown
// as text).

import { definitionList, el, table, when } from "../ui.js";
import { assistantName } from "./assistant_picker.js";

/** The delivery statuses, in the API's words and the console's. */
export const STATUS_WORDS = { pending: "pending", in_flight: "sending", succeeded: "succeeded", failed: "failed" };

/** A delivery's status as a badge. */
export function deliveryStatus(status) {
  return el("span", { class: status === "failed" ? "badge failed" : "badge" }, STATUS_WORDS[status] || status);
}

/** Whether a delivery may still change by itself. */
export function unsettled(delivery) {
  return delivery.status === "pending" || delivery.status === "in_flight";
}

/** A delivery's attempts as a table: number, time, status code, how long, error, response. */
export function attemptsTable(delivery) {
  return table(
    `Attempts of delivery ${delivery.id}`,
    [
      { label: "Attempt", cell: (attempt) => String(attempt.number) },
      { label: "Time", cell: (attempt) => when(attempt.started_at) },
      { label: "Status code", cell: (attempt) => (attempt.status_code === null ? "none" : String(attempt.status_code)) },
      { label: "Took", cell: (attempt) => `${attempt.latency_ms} ms` },
      { label: "Error", cell: (attempt) => attempt.error || "—" },
      {
        label: "Receiver's response",
        cell: (attempt) => (attempt.response_excerpt ? el("pre", {}, attempt.response_excerpt) : "—"),
      },
    ],
    delivery.attempts || [],
    el("p", { class: "quiet" }, delivery.status === "pending" ? "Not tried yet." : "No attempts recorded."),
  );
}

/** What a delivery is and what became of it, as facts. */
export function deliveryFacts(delivery, assistants) {
  return definitionList([
    ["Status", deliveryStatus(delivery.status)],
    ["Event", delivery.event_type],
    ["Assistant", assistants ? assistantName(assistants, delivery.assistant_id) : String(delivery.assistant_id)],
    ["Sent to", delivery.url],
    ["Webhook id", delivery.webhook_id],
    ["Attempts", String(delivery.attempt_count)],
    ["Next attempt", delivery.next_attempt_at ? when(delivery.next_attempt_at) : null],
    ["Last status code", delivery.last_status_code === null ? null : String(delivery.last_status_code)],
    ["Last error", delivery.last_error],
    ["Created", when(delivery.created_at)],
    ["Updated", when(delivery.updated_at)],
  ]);
}
