// API keys: the keys programs use to call the API as the organization. A new key is shown
// once, when it is created; afterwards only its first characters, and who created it (a key
// a console user created is revoked when that user is disabled). Revoking one refuses it
// from then on.

import {
  api, button, confirmStep, el, emptyState, fill, heading, notice, oneTimeSecret, register,
  session, showError, table, when,
} from "../ui.js";

register({ path: "api-keys", nav: "API keys", role: "owner", title: "API keys", render });

function render(main) {
  const view = {
    status: el("div", { class: "status-area", "aria-live": "polite", tabindex: "-1" }),
    fresh: el("div"),
    list: el("div", { class: "listing" }, el("p", { class: "quiet" }, "Loading API keys…")),
  };
  fill(
    main,
    heading("API keys", button("Create API key", () => create(view), { kind: "primary" })),
    el(
      "p",
      { class: "quiet" },
      "Programs send an API key as “Authorization: Bearer <key>” to use the API as your organization. A key is shown once, when it is created.",
    ),
    view.status,
    view.fresh,
    view.list,
  );
  load(view);
}

async function load(view) {
  let keys, emails;
  try {
    [{ body: keys }, emails] = await Promise.all([api("GET", "/v1/api-key"), userEmails()]);
  } catch (error) {
    fill(view.list);
    showError(view.status, error);
    return;
  }
  const empty = emptyState(
    "No API keys yet",
    "A program that calls the API (your scheduling system, a script) needs a key: choose Create API key, and keep the key where the program reads its secrets.",
  );
  const columns = [
    { label: "Key", cell: (key) => el("code", {}, `${key.prefix}…`) },
    { label: "Created", cell: (key) => when(key.created_at) },
    { label: "Created by", cell: (key) => createdBy(key, emails) },
    {
      label: "Revoked",
      cell: (key) => (key.revoked_at ? when(key.revoked_at) : el("span", { class: "badge live" }, "In use")),
    },
    { label: "Actions", cell: (key) => (key.revoked_at ? "" : rowActions(view, key)) },
  ];
  // Newest first, as the other lists are; the API lists them oldest first.
  fill(view.list, table("API keys", columns, [...keys].reverse(), empty));
}

// The console users' addresses by id; without them (the list failed) a creator shows by number.
async function userEmails() {
  try {
    const { body: users } = await api("GET", "/v1/user");
    return new Map(users.map((user) => [user.user_id, user.email]));
  } catch {
    return new Map();
  }
}

function createdBy(key, emails) {
  const id = key.created_by_user_id;
  if (id === null || id === undefined) return el("span", { class: "quiet" }, "command line / API key");
  const you = session.user !== null && id === session.user.user_id;
  return [emails.get(id) || `console user #${id}`, you ? el("span", { class: "quiet" }, " (you)") : null];
}

function rowActions(view, key) {
  const place = el(
    "div",
    { class: "actions" },
    button(["Revoke", el("span", { class: "visually-hidden" }, ` the key ${key.prefix}…`)], () =>
      confirmStep(
        place,
        `Revoke the key ${key.prefix}…? Programs using it are refused from then on; this cannot be undone.`,
        "Revoke key",
        async () => {
          await api("POST", `/v1/api-key/${key.key_id}/revoke`);
          fill(view.status, notice(`Revoked the key ${key.prefix}….`, "ok"));
          view.status.focus();
          await load(view);
        },
      ),
    ),
  );
  return place;
}

async function create(view) {
  fill(view.status);
  let created;
  try {
    ({ body: created } = await api("POST", "/v1/api-key"));
  } catch (error) {
    showError(view.status, error);
    return;
  }
  const box = oneTimeSecret(
    "Your new API key",
    created.api_key,
    "Copy it now and keep it where your program reads its secrets: it will not be shown again.",
    "If it is lost, create another key and revoke this one.",
  );
  fill(view.fresh, box);
  box.focus();
  await load(view);
}
