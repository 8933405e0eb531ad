// API keys: the keys programs use to call the API as the organization. A new key is shown
// once, when it is created; afterwards only its first characters. Revoking one refuses it
// from then on.

import {
  api, button, confirmStep, el, emptyState, fill, heading, notice, oneTimeSecret, register,
  showError, table, when,
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
  let keys;
  try {
    ({ body: keys } = await api("GET", "/v1/api-key"));
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
    {
      label: "Revoked",
      cell: (key) => (key.revoked_at ? when(key.revoked_at) : el("span", { class: "badge live" }, "In use")),
    },
    { label: "Actions", cell: (key) => (key.revoked_at ? "" : rowActions(view, key)) },
  ];
  // Newest first, as the other lists are; the API lists them oldest first.
  fill(view.list, table("API keys", columns, [...keys].reverse(), empty));
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
