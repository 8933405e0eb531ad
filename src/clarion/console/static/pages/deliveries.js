// The Deliveries page: the webhook deliveries of the organization's reports, filtered by
// status and assistant; a delivery's page with every attempt (what the receiver answered,
// shown as text: it is another server's words), its payload, and sending it again.

import {
  api, button, can, el, emptyState, every, field, fill, heading, link, notice, register,
  showError, statusArea, table, when,
} from "../ui.js";
import { assistantName, assistantSelect, loadAssistants } from "./assistant_picker.js";
import { STATUS_WORDS, attemptsTable, deliveryFacts, deliveryStatus, unsettled } from "./delivery_parts.js";

const STATUSES = Object.keys(STATUS_WORDS);
const LIST_LIMIT = 100;
const POLL_MS = 3000;
// After "Redeliver", how many times the page looks again for what came of it.
const LOOKS_AFTER_REDELIVER = 20;

async function listPage(main) {
  const status = statusArea();
  const results = el("div");
  fill(main, heading("Deliveries"), status, results);
  let assistants;
  try {
    assistants = await loadAssistants();
  } catch (error) {
    showError(status, error);
    return;
  }
  const statusChoice = field(
    "Status",
    el("select", { name: "status" }, el("option", { value: "" }, "Any status"), STATUSES.map((value) => el("option", { value }, STATUS_WORDS[value]))),
  );
  const assistantChoice = field("Assistant", assistantSelect(assistants, { any: "All assistants" }));
  const filters = el("form", { class: "filters", "aria-label": "Filter deliveries" }, assistantChoice.wrap, statusChoice.wrap);
  filters.addEventListener("submit", (event) => event.preventDefault());
  main.insertBefore(filters, status);

  async function load() {
    const query = new URLSearchParams({ limit: String(LIST_LIMIT) });
    if (statusChoice.control.value) query.set("status", statusChoice.control.value);
    if (assistantChoice.control.value) query.set("assistant_id", assistantChoice.control.value);
    fill(status);
    try {
      const { body } = await api("GET", `/v1/webhook-deliveries?${query}`);
      const filtered = statusChoice.control.value || assistantChoice.control.value;
      fill(results, deliveriesTable(body, assistants, filtered));
    } catch (error) {
      showError(status, error);
    }
  }
  statusChoice.control.addEventListener("change", load);
  assistantChoice.control.addEventListener("change", load);
  await load();
}

function deliveriesTable(deliveries, assistants, filtered) {
  const empty = filtered
    ? notice("No deliveries match these filters.", "info")
    : emptyState(
        "No deliveries yet",
        "When a call ends, its report is sent to its assistant's webhook URL. Each delivery, its attempts and their errors show here.",
      );
  return table(
    "Webhook deliveries, newest first",
    [
      { label: "Delivery", cell: (delivery) => link(`deliveries/${delivery.id}`, `Delivery ${delivery.id}`) },
      { label: "Assistant", cell: (delivery) => assistantName(assistants, delivery.assistant_id) },
      { label: "Status", cell: (delivery) => deliveryStatus(delivery.status) },
      { label: "Attempts", cell: (delivery) => String(delivery.attempt_count) },
      { label: "Last status code", cell: (delivery) => (delivery.last_status_code === null ? "—" : String(delivery.last_status_code)) },
      { label: "Last error", cell: (delivery) => delivery.last_error || "—" },
      { label: "Created", cell: (delivery) => when(delivery.created_at) },
      { label: "Updated", cell: (delivery) => when(delivery.updated_at) },
    ],
    deliveries,
    empty,
  );
}

async function deliveryPage(main, id) {
  const status = statusArea();
  const body = el("div", { class: "parts" });
  const redeliver = can("editor") ? button("Redeliver", () => sendAgain(), { kind: "primary" }) : null;
  fill(main, el("p", {}, link("deliveries", "All deliveries")), heading(`Delivery ${id}`, redeliver), status, body);
  let assistants = null;
  let looks = 0;
  let stop = null;

  async function load(background = false) {
    const { body: delivery } = await api("GET", `/v1/webhook-deliveries/${encodeURIComponent(id)}`, {
      background,
    });
    draw(delivery);
    return delivery;
  }

  function draw(delivery) {
    fill(
      body,
      deliveryFacts(delivery, assistants),
      delivery.call_id !== null
        ? el("p", {}, "The report of ", link(`calls/${delivery.call_id}`, `Call ${delivery.call_id}`), ".")
        : el("p", { class: "quiet" }, "A test report: its call is a sample, not a real call."),
      el("h2", {}, "Attempts"),
      attemptsTable(delivery),
      el("h2", {}, "Payload"),
      el("pre", {}, JSON.stringify(delivery.payload, null, 2)),
    );
  }

  // After "Redeliver", the page looks again until the delivery has settled, for a while.
  function watch() {
    if (stop) stop();
    looks = 0;
    stop = every(POLL_MS, async () => {
      looks += 1;
      try {
        const delivery = await load(true);
        if (!unsettled(delivery) || looks >= LOOKS_AFTER_REDELIVER) stop();
      } catch (error) {
        showError(status, error);
      }
    });
  }

  async function sendAgain() {
    redeliver.disabled = true;
    try {
      await api("POST", `/v1/webhook-deliveries/${encodeURIComponent(id)}/redeliver`);
      fill(status, notice("Queued to be sent again now.", "ok"));
      await load();
      watch();
    } catch (error) {
      showError(status, error);
    } finally {
      redeliver.disabled = false;
    }
  }

  try {
    assistants = await loadAssistants();
    await load();
  } catch (error) {
    showError(status, error);
    if (redeliver) redeliver.disabled = true;
  }
  return () => {
    if (stop) stop();
  };
}

register({
  path: "deliveries",
  nav: "Deliveries",
  role: "viewer",
  title: "Deliveries",
  render(main, params) {
    return params.length ? deliveryPage(main, params[0]) : listPage(main);
  },
});
