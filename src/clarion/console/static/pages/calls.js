// The Calls page: the organization's calls, filtered by assistant, status, ended reason and
// time, kept up to date while the page is open (new and live calls change without a reload);
// a call's page with what was said and when, its analysis, its report's deliveries, and
// "End call" while it is live.
//
// Every response carrying a call's messages is noted in the access log. The list shows none,
// so it asks for the calls without them (no read) and simply asks again; only a call's own
// page reads its messages.

import {
  api, button, can, definitionList, el, emptyState, every, field, fill, heading, link, notice,
  register, showError, statusArea, table, when,
} from "../ui.js";
import { assistantName, assistantSelect, loadAssistants } from "./assistant_picker.js";
import { attemptsTable, deliveryFacts, unsettled } from "./delivery_parts.js";
import {
  ENDED_REASONS, callType, clock, endedReasonText, failedEnding, isLive, messageItem, transcriptList,
} from "./transcript.js";

const POLL_MS = 3000;
const LIST_LIMIT = 100;
const STATUSES = ["queued", "in-progress", "ended"];
// How long after a call ends its page keeps looking for the analysis and the report.
const AFTER_END_MS = 120_000;

/** A datetime-local input's value (the reader's time) as an ISO UTC time, or "". */
function utcOfLocal(value) {
  if (!value) return "";
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? "" : moment.toISOString();
}

function callsPath(filters) {
  const query = new URLSearchParams({ limit: String(LIST_LIMIT), include_messages: "false" });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return `/v1/call?${query}`;
}

function statusCell(call) {
  return isLive(call) ? [el("span", { class: "badge live" }, "live"), " ", call.call_status] : call.call_status;
}

function reasonCell(call) {
  if (!call.ended_reason) return "—";
  return failedEnding(call.ended_reason) ? el("span", { class: "badge failed" }, call.ended_reason) : call.ended_reason;
}

async function listPage(main) {
  const status = statusArea();
  const results = el("div");
  fill(main, heading("Calls"), status, results);
  let assistants;
  try {
    assistants = await loadAssistants();
  } catch (error) {
    showError(status, error);
    return undefined;
  }
  const assistant = field("Assistant", assistantSelect(assistants, { any: "All assistants" }));
  const state = field(
    "Status",
    el("select", { name: "call_status" }, el("option", { value: "" }, "Any status"), STATUSES.map((value) => el("option", { value }, value))),
  );
  const reason = field(
    "Ended reason",
    el("select", { name: "ended_reason" }, el("option", { value: "" }, "Any reason"), ENDED_REASONS.map(([value]) => el("option", { value }, value))),
  );
  const from = field("From", el("input", { type: "datetime-local", name: "from" }));
  const to = field("To", el("input", { type: "datetime-local", name: "to" }));
  const form = el("form", { class: "filters", "aria-label": "Filter calls" }, [assistant, state, reason, from, to].map((entry) => entry.wrap));
  form.addEventListener("submit", (event) => event.preventDefault());
  main.insertBefore(form, status);

  let filters = {};
  let calls = [];
  let drawn = null;
  let loading = 0;

  function chosen() {
    return {
      assistant_id: assistant.control.value,
      call_status: state.control.value,
      ended_reason: reason.control.value,
      createdAtGe: utcOfLocal(from.control.value),
      createdAtLe: utcOfLocal(to.control.value),
    };
  }

  // Drawn again only when what it shows changed, so an unchanged list keeps its place.
  function draw() {
    const filtered = Object.values(filters).some(Boolean);
    const signature = JSON.stringify([filtered, calls.map((call) => [call.id, call.call_status, call.ended_reason, call.duration_ms])]);
    if (signature === drawn) return;
    drawn = signature;
    // Redrawn under a keyboard user's focus: it stays on the same call's link.
    const focused = results.contains(document.activeElement) ? document.activeElement.dataset.callId : undefined;
    const empty = filtered
      ? notice("No calls match these filters.", "info")
      : emptyState(
          "No calls yet",
          can("editor")
            ? "Try an assistant to hold a first call: it shows here, with what was said."
            : "Calls show here as the organization's assistants take them.",
          can("editor") ? link("try", "Try an assistant") : null,
        );
    fill(
      results,
      table(
        "Calls, newest first",
        [
          { label: "Call", cell: (call) => el("a", { href: `#/calls/${call.id}`, dataset: { callId: String(call.id) } }, `Call ${call.id}`) },
          { label: "Created", cell: (call) => when(call.created_at) },
          { label: "Assistant", cell: (call) => assistantName(assistants, call.assistant_id) },
          { label: "Type", cell: (call) => callType(call.call_type) },
          { label: "Status", cell: statusCell },
          { label: "Ended reason", cell: reasonCell },
          { label: "Duration", cell: (call) => clock(call.duration_ms) },
        ],
        calls,
        empty,
      ),
    );
    if (focused) results.querySelector(`[data-call-id="${focused}"]`)?.focus();
  }

  // The list's current page, with the filters; asked for again while the page is open, and
  // only the latest answer drawn (a filter changed while a look was on its way).
  async function load(background = false) {
    const asked = ++loading;
    const wanted = chosen();
    try {
      const { body } = await api("GET", callsPath(wanted), { background });
      if (asked !== loading) return;
      filters = wanted;
      calls = body;
      fill(status);
      draw();
    } catch (error) {
      if (asked === loading) showError(status, error);
    }
  }

  for (const entry of [assistant, state, reason, from, to]) entry.control.addEventListener("change", () => load());
  await load();
  return every(POLL_MS, () => load(true));
}

/** The deliveries of a call's report, each with its attempts. Showing one is a read of the call
 * (its payload carries the transcript), so one already shown is asked for again only once the
 * list says it changed. */
async function reportDeliveries(callId, shown, background) {
  const { body } = await api("GET", `/v1/webhook-deliveries?call_id=${callId}`, { background });
  const before = new Map((shown || []).map((delivery) => [delivery.id, delivery]));
  return Promise.all(
    body.map(async (listed) => {
      const kept = before.get(listed.id);
      if (kept && kept.status === listed.status && kept.updated_at === listed.updated_at) return kept;
      return (await api("GET", `/v1/webhook-deliveries/${listed.id}`, { background })).body;
    }),
  );
}

function structuredData(value) {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    return definitionList(
      Object.entries(value).map(([key, item]) => [key, typeof item === "object" && item !== null ? el("pre", {}, JSON.stringify(item, null, 2)) : String(item)]),
    );
  }
  return el("pre", {}, JSON.stringify(value, null, 2));
}

function analysisPart(call) {
  const analysis = call.analysis || {};
  const parts = [];
  if (call.summary) parts.push(el("h3", {}, "Summary"), el("p", {}, call.summary));
  if (analysis.successEvaluation !== undefined && analysis.successEvaluation !== null) {
    parts.push(el("h3", {}, "Success evaluation"), el("p", {}, String(analysis.successEvaluation)));
  }
  if (analysis.structuredData !== undefined && analysis.structuredData !== null) {
    parts.push(el("h3", {}, "Structured data"), structuredData(analysis.structuredData));
  }
  if (analysis.structuredDataError) {
    parts.push(el("h3", {}, "Structured data"), notice(`Not made: ${analysis.structuredDataError}`, "info"));
  }
  if (parts.length) return parts;
  return el(
    "p",
    { class: "quiet" },
    isLive(call) ? "The analysis is made once the call ends." : "No analysis: the assistant's analysis plan asks for none, or it is still being made.",
  );
}

function deliveriesPart(call, deliveries) {
  if (isLive(call)) return el("p", { class: "quiet" }, "The report is sent once the call ends and its analysis is made.");
  if (deliveries === null) return el("p", { class: "quiet" }, "Looking for the report's delivery…");
  if (deliveries.length === 0) {
    return el(
      "p",
      { class: "quiet" },
      "No report delivery: the assistant has no webhook URL, or the report is not queued yet.",
    );
  }
  return deliveries.map((delivery) => [
    el("h3", {}, link(`deliveries/${delivery.id}`, `Delivery ${delivery.id}`)),
    deliveryFacts(delivery, null),
    attemptsTable(delivery),
  ]);
}

function messagesPart(call) {
  const messages = call.messages || [];
  if (messages.length === 0) return el("p", { class: "quiet" }, isLive(call) ? "Nothing said yet." : "Nothing was said.");
  const list = transcriptList("What was said");
  for (const message of messages) {
    list.append(messageItem(message.role, message.message, clock(message.secondsFromStart * 1000, { tenths: true })));
  }
  return [el("p", { class: "quiet" }, "Times are from the start of the call."), list];
}

async function callPage(main, id) {
  const status = statusArea();
  const body = el("div", { class: "parts" });
  const end = can("editor") ? button("End call", () => endCall(), { kind: "danger" }) : null;
  const endPlace = el("span"); // holds "End call" while the call is live
  fill(main, el("p", {}, link("calls", "All calls")), heading(`Call ${id}`, endPlace), status, body);
  let assistants = [];
  let call = null;
  let deliveries = null;
  let final = false; // read after its report was queued, the call changes no more
  let drawn = null;

  function draw() {
    const signature = JSON.stringify([call, deliveries]);
    if (signature === drawn) return;
    drawn = signature;
    fill(endPlace, end && isLive(call) ? end : null);
    fill(
      body,
      definitionList([
        ["Status", statusCell(call)],
        ["Assistant", assistantName(assistants, call.assistant_id)],
        ["Name", call.name],
        ["Type", callType(call.call_type)],
        ["From", call.source_number],
        ["To", call.destination_number],
        ["Created", when(call.created_at)],
        ["Started", call.started_at ? when(call.started_at) : null],
        ["Ended", call.ended_at ? when(call.ended_at) : null],
        ["Duration", call.duration_ms === undefined ? null : clock(call.duration_ms)],
        ["Ended reason", call.ended_reason ? endedReasonText(call.ended_reason) : null],
        ["What failed", call.failure_detail],
        ["Outcome", call.outcome],
        ["Failure reason", call.failure_reason],
      ]),
      el("h2", {}, "Conversation"),
      messagesPart(call),
      el("h2", {}, "Analysis"),
      analysisPart(call),
      el("h2", {}, "Report deliveries"),
      deliveriesPart(call, deliveries),
    );
  }

  // Each read of the call is a read of its messages, noted in the access log. Its analysis is
  // kept in the transaction that queues its report, so once a read follows the report's
  // delivery being found, only the delivery is looked at again.
  async function load(background = false) {
    if (!final) {
      const reported = Boolean(deliveries && deliveries.length);
      call = (await api("GET", `/v1/call/${encodeURIComponent(id)}`, { background })).body;
      final = reported;
    }
    if (!isLive(call)) deliveries = await reportDeliveries(call.id, deliveries, background);
    draw();
  }

  // A live call changes; an ended one only until its analysis is kept and its report sent.
  function settling() {
    if (isLive(call)) return true;
    const recent = Boolean(call.ended_at) && Date.now() - Date.parse(call.ended_at) < AFTER_END_MS;
    return recent && (!final || deliveries.some(unsettled));
  }

  async function endCall() {
    end.disabled = true;
    try {
      call = (await api("POST", `/v1/call/${encodeURIComponent(id)}/end`)).body;
      fill(status, notice(`The call ended: ${endedReasonText(call.ended_reason)}.`, "ok"));
      draw();
      main.focus();
    } catch (error) {
      showError(status, error);
    } finally {
      end.disabled = false;
    }
  }

  try {
    assistants = await loadAssistants();
    await load();
  } catch (error) {
    showError(status, error);
    return undefined;
  }
  return every(POLL_MS, async () => {
    if (!settling()) return;
    try {
      await load(true);
    } catch (error) {
      showError(status, error);
    }
  });
}

register({
  path: "calls",
  nav: "Calls",
  role: "viewer",
  title: "Calls",
  render(main, params) {
    return params.length ? callPage(main, params[0]) : listPage(main);
  },
});
