// Access log: who read which call's transcript, when and from where, newest first, through
// the console or the API. Filtered by call, by person or key, and by time; "Show more"
// reads on from the last row shown. `#/access-log/call/12` opens it filtered to call 12.

import {
  api, button, clearFieldErrors, el, emptyState, field, fill, heading, link, register,
  setFieldError, showError, showFieldError, statusArea, table, when,
} from "../ui.js";

const PAGE = 50;

register({ path: "access-log", nav: "Access log", role: "owner", title: "Access log", render });

function render(main, params) {
  const view = {
    status: statusArea(),
    list: el("div", { class: "listing" }, el("p", { class: "quiet" }, "Loading the access log…")),
    more: el("div", { class: "more" }),
    users: new Map(),
    keys: new Map(),
    query: {},
    entries: [],
    seen: new Set(),
  };
  const filters = filtersForm(view);
  if (params[0] === "call" && /^[1-9][0-9]*$/.test(params[1] || "")) filters.fields.call_id.control.value = params[1];
  fill(
    main,
    heading("Access log"),
    el(
      "p",
      { class: "quiet" },
      "Every read of a call's transcript, by a person in the console or by a program with an API key. Entries are never changed or removed.",
    ),
    filters.form,
    view.status,
    view.list,
    view.more,
  );
  (async () => {
    await learnWho(view, filters.who);
    await search(view, filters);
  })();
}

// Who each entry's actor is: people by their address, keys by their first characters.
async function learnWho(view, who) {
  try {
    const [{ body: users }, { body: keys }] = await Promise.all([api("GET", "/v1/user"), api("GET", "/v1/api-key")]);
    for (const user of users) view.users.set(user.user_id, user.email);
    for (const key of keys) view.keys.set(key.key_id, key.prefix);
  } catch {
    // Entries still show who by number.
  }
  fill(
    who,
    el("option", { value: "" }, "Anyone"),
    el("optgroup", { label: "People" }, [...view.users].map(([id, email]) => el("option", { value: `user:${id}` }, email))),
    el(
      "optgroup",
      { label: "API keys" },
      [...view.keys].map(([id, prefix]) => el("option", { value: `api_key:${id}` }, `API key ${id} (${prefix}…)`)),
    ),
  );
}

function filtersForm(view) {
  const fields = {
    call_id: field("Call", el("input", { type: "text", inputmode: "numeric", autocomplete: "off" })),
    who: field("Who", el("select", {}, el("option", { value: "" }, "Anyone"))),
    at_ge: field("From", el("input", { type: "datetime-local" })),
    at_le: field("To", el("input", { type: "datetime-local" })),
  };
  const form = el(
    "form",
    { class: "filters", role: "search", "aria-label": "Filter the access log", novalidate: true },
    Object.values(fields).map((entry) => entry.wrap),
    el(
      "div",
      { class: "actions" },
      button("Filter", null, { kind: "primary", type: "submit" }),
      button("Clear", () => {
        form.reset();
        search(view, filters);
      }),
    ),
  );
  const filters = { form, fields, who: fields.who.control };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search(view, filters);
  });
  return filters;
}

// The query the filters ask for, or null when one is not understood (its field then says why).
function queryOf(fields) {
  clearFieldErrors(fields);
  const query = {};
  const call = fields.call_id.control.value.trim();
  if (call) {
    if (!/^[1-9][0-9]{0,17}$/.test(call)) {
      setFieldError(fields.call_id, "Call: a call's number, such as 12");
      return null;
    }
    query.call_id = call;
  }
  const who = fields.who.control.value;
  if (who) {
    const [type, id] = who.split(":");
    query.actor_type = type;
    query.actor_id = id;
  }
  for (const name of ["at_ge", "at_le"]) {
    const value = fields[name].control.value;
    if (!value) continue;
    const moment = new Date(value); // the reader's local time, as the table shows it
    if (Number.isNaN(moment.getTime())) {
      setFieldError(fields[name], "A date and time, such as 7 December 2026, 09:30");
      return null;
    }
    query[name] = moment.toISOString();
  }
  return query;
}

async function search(view, filters) {
  const query = queryOf(filters.fields);
  if (query === null) return;
  fill(view.status);
  view.query = query;
  view.entries = [];
  view.seen = new Set();
  try {
    await readOn(view, filters);
  } catch (error) {
    fill(view.list);
    fill(view.more);
    showFieldError(view.status, error, filters.fields);
  }
}

// The next entries after those shown. Several entries can share a moment (one list read
// notes every call it carried), so the next page starts at the last row's moment and skips
// the entries at that moment already shown.
async function readOn(view, filters) {
  const query = new URLSearchParams(view.query);
  let limit = PAGE;
  const last = view.entries.at(-1);
  if (last) {
    const shownAtLast = view.entries.filter((entry) => entry.at === last.at).length;
    query.set("at_le", last.at);
    limit = PAGE + shownAtLast;
  }
  query.set("limit", String(limit));
  const { body } = await api("GET", `/v1/access-log?${query}`);
  const shownBefore = view.entries.length;
  for (const entry of body) {
    if (view.seen.has(entry.id)) continue;
    view.seen.add(entry.id);
    view.entries.push(entry);
  }
  draw(view, filters, body.length === limit);
  return shownBefore;
}

function draw(view, filters, more) {
  const filtered = Object.keys(view.query).length > 0;
  const empty = filtered
    ? emptyState("No reads match", "Nothing in the access log matches these filters. Clear them to see every read.")
    : emptyState(
        "No reads yet",
        "When someone reads a call's transcript, in the console or through the API, it appears here: who read it, which call, when and from which address.",
      );
  const columns = [
    { label: "When", cell: (entry) => el("time", { datetime: entry.at }, when(entry.at)) },
    { label: "Call", cell: (entry) => link(`calls/${entry.call_id}`, `Call ${entry.call_id}`) },
    { label: "Who", cell: (entry) => who(view, entry) },
    { label: "Address", cell: (entry) => entry.address || el("span", { class: "quiet" }, "not known") },
  ];
  fill(view.list, table("Reads of call transcripts, newest first", columns, view.entries, empty));
  if (!more) {
    fill(view.more, view.entries.length > PAGE ? el("p", { class: "quiet" }, `All ${view.entries.length} reads are shown.`) : null);
    return;
  }
  fill(
    view.more,
    button("Show more", async (event) => {
      const showMore = event.currentTarget;
      showMore.disabled = true;
      try {
        const shownBefore = await readOn(view, filters);
        // Keyboard users go on from the first row they had not seen.
        const rows = view.list.querySelectorAll("tbody tr");
        rows[shownBefore]?.querySelector("a")?.focus();
      } catch (error) {
        showError(view.status, error);
        showMore.disabled = false;
      }
    }),
  );
}

function who(view, entry) {
  if (entry.actor_type === "user") return view.users.get(entry.actor_id) || `User ${entry.actor_id}`;
  const prefix = view.keys.get(entry.actor_id);
  return [`API key ${entry.actor_id}`, prefix ? el("span", { class: "quiet" }, ` (${prefix}…)`) : null];
}
