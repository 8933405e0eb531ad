// The Calls page: the organization's calls, filtered by assistant, status, ended reason and
// time, kept up to date while the page is open (new and live calls change without a reload);
// a call's page with what was said and when, its analysis, its report's deliveries, and
// "End call" while it is live.
//
// Every response carrying a call's messages is noted in the access log, so the list looks
// again only at what can have changed: calls newer than the newest shown, and each live one.

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
// Up to this many live calls in the list are asked for one by one as it looks again.
const ONE_BY_ONE = 10;
// How long after a call ends its page keeps looking for the analysis and the report.
const AFTER_END_MS = 120_000;
// How many of the assistant's latest deliveries are searched for a call's report.
const DELIVERIES_SEARCHED = 200;

/** Microseconds since 1970 of an ISO 8601 time, keeping the precision the server stores. */
function micros(iso) {
  const fraction = (/\.(\d+)/.exec(iso) || ["", ""])[1].padEnd(6, "0").slice(0, 6);
  return Date.parse(iso.replace(/\.\d+/, "")) * 1000 + Number(fraction);
}

/** The ISO 8601 UTC time of a count of microseconds since 1970. */
function isoOfMicros(count) {
  const seconds = Math.floor(count / 1e6);
  const rest = String(count - seconds * 1e6).padStart(6, "0");
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${rest}Z`;
}

/** The later of two ISO 8601 times, either of which may be empty. */
function later(first, second) {
  if (!first) return second;
  if (!second) return first;
  return micros(first) >= micros(second) ? first : second;
}

/** A datetime-local input's value (the reader's time) as an ISO UTC time, or "". */
function utcOfLocal(value) {
  if (!value) return "";
  const moment = new Date(value);
  return Number.isNaN(moment.getTime()) ? "" : moment.toISOString();
}

function callsPath(filters) {
  const query = new URLSearchParams({ limit: String(LIST_LIMIT) });
  for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
  return `/v1/call?${query}`;
}

function newestFirst(a, b) {
  return micros(b.created_at) - micros(a.created_at) || b.id - a.id;
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

  // A call still shown once it changed only while it still matches the filters.
  function matches(call) {
    return (!filters.call_status || call.call_status === filters.call_status)
      && (!filters.ended_reason || call.ended_reason === filters.ended_reason);
  }

  function draw() {
    const signature = JSON.stringify(calls.map((call) => [call.id, call.call_status, call.ended_reason, call.duration_ms]));
    if (signature === drawn) return;
    drawn = signature;
    // Redrawn under a keyboard user's focus: it stays on the same call's link.
    const focused = results.contains(document.activeElement) ? document.activeElement.dataset.callId : undefined;
    const filtered = Object.values(filters).some(Boolean);
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

  async function load() {
    const asked = ++loading;
    filters = chosen();
    try {
      const { body } = await api("GET", callsPath(filters));
      if (asked !== loading) return;
      calls = body;
      fill(status);
      drawn = null;
      draw();
    } catch (error) {
      showError(status, error);
    }
  }

  // Only what can have changed is asked for again: calls created after the newest shown, and
  // each live one; with many live (outbound calls waiting their turn, say), every call from
  // the oldest live one on, in one request.
  async function refresh() {
    const asked = loading;
    const live = calls.filter(isLive);
    try {
      let next;
      if (live.length > ONE_BY_ONE) {
        const since = later(filters.createdAtGe, live[live.length - 1].created_at);
        const { body } = await api("GET", callsPath({ ...filters, createdAtGe: since }));
        next = body.length >= LIST_LIMIT ? body : calls.filter((call) => micros(call.created_at) < micros(since)).concat(body);
      } else {
        const since = calls.length ? later(filters.createdAtGe, isoOfMicros(micros(calls[0].created_at) + 1)) : filters.createdAtGe;
        const [newer, ...current] = await Promise.all([
          api("GET", callsPath({ ...filters, createdAtGe: since })).then((response) => response.body),
          ...live.map((call) =>
            api("GET", `/v1/call/${call.id}`).then(
              (response) => response.body,
              (error) => (error.status === 404 ? { id: call.id, gone: true } : Promise.reject(error)),
            ),
          ),
        ]);
        const changed = new Map(current.map((call) => [call.id, call]));
        const known = new Set(calls.map((call) => call.id));
        next = calls
          .map((call) => changed.get(call.id) || call)
          .filter((call) => !call.gone && matches(call))
          .concat(newer.filter((call) => !known.has(call.id)));
      }
      if (asked !== loading) return;
      calls = next.sort(newestFirst).slice(0, LIST_LIMIT);
      fill(status);
      draw();
    } catch (error) {
      showError(status, error);
    }
  }

  for (const entry of [assistant, state, reason, from, to]) entry.control.addEventListener("change", load);
  await load();
  return every(POLL_MS, refresh);
}

/** The report deliveries of an ended call: those of its assistant's end-of-call reports that
 * were queued when its analysis was kept (the moment the call was last updated), checked by
 * the call id their payload carries. */
async function reportDeliveries(call) {
  const query = new URLSearchParams({ assistant_id: String(call.assistant_id), limit: String(DELIVERIES_SEARCHED) });
  const { body } = await api("GET", `/v1/webhook-deliveries?${query}`);
  const queuedAt = micros(call.updated_at);
  const candidates = body.filter(
    (delivery) => delivery.event_type === "end-of-call-report" && micros(delivery.created_at) === queuedAt,
  );
  const found = [];
  for (const candidate of candidates) {
    const { body: delivery } = await api("GET", `/v1/webhook-deliveries/${candidate.id}`);
    if (delivery.payload && delivery.payload.id === call.id) found.push(delivery);
  }
  return found;
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
      `No report delivery found among the assistant's latest ${DELIVERIES_SEARCHED}: it has no webhook URL, or the report is not queued yet.`,
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

  async function load() {
    call = (await api("GET", `/v1/call/${encodeURIComponent(id)}`)).body;
    if (!isLive(call) && (deliveries === null || deliveries.length === 0 || deliveries.some(unsettled))) {
      deliveries = await reportDeliveries(call);
    }
    draw();
  }

  // A live call changes; an ended one only until its analysis is kept and its report sent.
  function settling() {
    if (isLive(call)) return true;
    const recent = call.ended_at && Date.now() - Date.parse(call.ended_at) < AFTER_END_MS;
    return Boolean(recent) && (deliveries === null || deliveries.length === 0 || deliveries.some(unsettled));
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
      await load();
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
