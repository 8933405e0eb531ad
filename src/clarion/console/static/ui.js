// What every console page uses: the signed-in session, the JSON API, building elements
// (text is always set as text, never parsed as HTML), the pages' registry and a few shared
// pieces (notices, tables, labelled fields, empty states, times).

export const session = { user: null };

const RANKS = { viewer: 0, editor: 1, owner: 2 };

/** Whether the signed-in user's role may do what `role` may. */
export function can(role) {
  const user = session.user;
  return user !== null && RANKS[user.role] >= RANKS[role];
}

/** An API failure: the Error body's status and message. */
export class ApiError extends Error {
  constructor(status, message, headers) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

const SAFE = new Set(["GET", "HEAD"]);
let onSignedOut = () => {};

/** Called when a request finds the session gone (signed out elsewhere, idle too long). */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/**
 * A request to the JSON API, signed in by the session cookie; changes carry the CSRF token.
 * `background: true` marks a request the page makes by itself (keeping a view up to date),
 * which does not keep the session from going idle.
 * Resolves to { status, body, headers }; an error status rejects with an ApiError.
 */
export async function api(method, path, { body, headers = {}, background = false } = {}) {
  const sent = { ...headers };
  if (!SAFE.has(method) && session.user) sent["X-CSRF-Token"] = session.user.csrf_token;
  if (background) sent["X-Clarion-Background"] = "1";
  if (body !== undefined) sent["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers: sent,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (!response.ok) {
    const message = parsed && parsed.message ? parsed.message : `${response.status} ${response.statusText}`;
    if (response.status === 401 && session.user && !path.startsWith("/v1/session")) {
      session.user = null;
      onSignedOut(message);
    }
    throw new ApiError(response.status, message, response.headers);
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/**
 * An element: `el("button", { type: "button", onclick }, "Save")`. Children that are strings
 * or numbers become text nodes; null and false are skipped. Attributes starting with "on"
 * are listeners; `class`, `for` and others are attributes; `value`, `checked` and
 * `disabled` are properties.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "value" || name === "checked" || name === "disabled" || name === "selected") {
      node[name] = value;
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

// Pages register here; main.js draws the one the address names.
export const pages = [];

/**
 * A page: `{ path: "assistants", nav: "Assistants", role: "viewer", render(main, params) }`.
 * `path` is the address's first part (#/assistants/12 → "assistants", params ["12"]);
 * `nav` is its label in the navigation, or null for a page reached from another.
 * `render` may return a function to run when the page is left (stop polling, close sockets).
 */
export function register(page) {
  pages.push(page);
}

/** Go to a console address, e.g. go("assistants/12"). */
export function go(address) {
  const hash = `#/${address}`;
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = hash;
}

/** A link to a console address. */
export function link(address, ...children) {
  return el("a", { href: `#/${address}` }, ...children);
}

/** The page's heading, with actions beside it. */
export function heading(text, ...actions) {
  return el("div", { class: "page-head" }, el("h1", {}, text), el("div", { class: "actions" }, actions));
}

/** A message to the user: kind "error", "ok" or "info". Errors are announced at once. */
export function notice(text, kind = "info") {
  return el("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}

/** An area whose messages are announced as they change. */
export function statusArea() {
  return el("div", { class: "status-area", "aria-live": "polite" });
}

/** Show a failed request's message in `area` (an element from statusArea()). */
export function showError(area, error) {
  fill(area, notice(error instanceof ApiError ? error.message : String(error), "error"));
}

/**
 * A table: columns are [{ label, cell: row => node or text }]; an empty list shows `empty`.
 */
export function table(caption, columns, rows, empty) {
  if (rows.length === 0) return empty;
  return el(
    "table",
    {},
    el("caption", { class: "visually-hidden" }, caption),
    el("thead", {}, el("tr", {}, columns.map((column) => el("th", { scope: "col" }, column.label)))),
    el(
      "tbody",
      {},
      rows.map((row) => el("tr", {}, columns.map((column) => el("td", {}, column.cell(row))))),
    ),
  );
}

/** What to do first, where a list would be empty. */
export function emptyState(title, text, ...actions) {
  return el("section", { class: "empty" }, el("h2", {}, title), el("p", {}, text), el("div", { class: "actions" }, actions));
}

let fieldCount = 0;

/**
 * A labelled control with a place for its error: returns { wrap, control, error, id }.
 * `control` is the element (input, select, textarea) to label; its error is announced and
 * tied to it by aria-describedby.
 */
export function field(label, control, hint) {
  fieldCount += 1;
  const id = control.id || `field-${fieldCount}`;
  control.id = id;
  const error = el("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  const described = [`${id}-error`];
  let hintNode = null;
  if (hint) {
    hintNode = el("p", { class: "hint", id: `${id}-hint` }, hint);
    described.push(`${id}-hint`);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  const wrap = el("div", { class: "field" }, el("label", { for: id }, label), hintNode, control, error);
  return { wrap, control, error, id };
}

/** Mark a field with an error message, or clear it with null. */
export function setFieldError(entry, message) {
  fill(entry.error, message || "");
  if (message) entry.control.setAttribute("aria-invalid", "true");
  else entry.control.removeAttribute("aria-invalid");
}

/** A moment as the reader's local date and time. */
export function when(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return Number.isNaN(moment.getTime()) ? String(iso) : moment.toLocaleString();
}

/** A button: `button("Save", onclick, { kind: "primary" })`. */
export function button(text, onclick, { kind = "", type = "button", disabled = false } = {}) {
  return el("button", { type, class: kind, onclick, disabled }, text);
}

// Asking before what cannot be undone, secrets shown once, and errors beside the field
// they name (used by the credentials, API keys and users pages).

/**
 * Ask in the page before doing what cannot be undone (never window.confirm): `place`'s
 * content gives way to the question, a button that does it and "Cancel", which puts the
 * content back. `action` runs on confirming; if it fails, its message shows under the question.
 */
export function confirmStep(place, question, confirmText, action) {
  const before = [...place.childNodes];
  const trigger = document.activeElement;
  fieldCount += 1;
  const questionId = `confirm-${fieldCount}`;
  const status = statusArea();
  const cancel = button("Cancel", () => {
    fill(place, before);
    if (trigger instanceof HTMLElement && place.contains(trigger)) trigger.focus();
  });
  const confirm = button(
    confirmText,
    async () => {
      confirm.disabled = true;
      cancel.disabled = true;
      try {
        await action();
      } catch (error) {
        showError(status, error);
        confirm.disabled = false;
        cancel.disabled = false;
      }
    },
    { kind: "danger" },
  );
  fill(
    place,
    el(
      "div",
      { class: "confirm", role: "group", "aria-labelledby": questionId },
      el("p", { id: questionId }, question),
      el("div", { class: "actions" }, confirm, cancel),
      status,
    ),
  );
  cancel.focus();
}

/**
 * A secret shown once (a new API key, a one-time password): a box with a title, the secret
 * as text to copy, what to do with it, "Copy" and "Done". Focus the box once it is placed.
 */
export function oneTimeSecret(title, secret, ...notes) {
  fieldCount += 1;
  const titleId = `secret-${fieldCount}`;
  const status = statusArea();
  const box = el(
    "section",
    { class: "card one-time", tabindex: "-1", "aria-labelledby": titleId },
    el("h2", { id: titleId }, title),
    el("p", {}, el("code", { class: "secret" }, secret)),
    notes.map((text) => el("p", {}, text)),
    el(
      "div",
      { class: "actions" },
      button("Copy", async () => {
        try {
          await navigator.clipboard.writeText(secret);
          fill(status, notice("Copied.", "ok"));
        } catch {
          fill(status, notice("This browser would not copy it: select the text and copy it.", "error"));
        }
      }),
      button("Done", () => {
        box.remove();
        document.getElementById("main")?.focus();
      }),
    ),
    status,
  );
  return box;
}

/** Clear the errors of labelled fields: `entries` maps API field names to field() entries. */
export function clearFieldErrors(entries) {
  for (const entry of Object.values(entries)) setFieldError(entry, null);
}

/**
 * Show a failed request's message beside the field it names (the API's messages begin with
 * the field, "base_url: ..."), focusing it; a message naming none of `entries` goes to `area`.
 */
export function showFieldError(area, error, entries) {
  const named = error instanceof ApiError ? error.message.split(":", 1)[0] : "";
  const entry = Object.hasOwn(entries, named) ? entries[named] : null;
  if (entry === null) {
    showError(area, error);
    return;
  }
  setFieldError(entry, error.message);
  entry.control.focus();
}

// Keeping a page up to date, and facts shown as a list of terms (calls, deliveries).

/**
 * Run `task` every `ms` milliseconds while the page is open and visible, one run at a time
 * (the next waits for the last to finish); returns the function that stops it, for a page's
 * cleanup. `task` shows its own failures.
 */
export function every(ms, task) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (!document.hidden) {
      try {
        await task();
      } catch {
        // The task has shown it; the next run tries again.
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  timer = setTimeout(tick, ms);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** A definition list of [term, value] pairs; pairs without a value are left out. */
export function definitionList(pairs) {
  const shown = pairs.filter(([, value]) => value !== null && value !== undefined && value !== "");
  return el("dl", { class: "facts" }, shown.map(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]));
}
