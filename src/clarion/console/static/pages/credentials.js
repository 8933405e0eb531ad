// Credentials: the organization's keys for the providers its assistants use (the model, speech
// to text, voices). A key is write-only, as in the API: typed into a password field, stored
// encrypted, and shown back only as "set" with its last characters.

import {
  api, button, clearFieldErrors, confirmStep, el, emptyState, field, fill, heading, notice,
  register, showError, showFieldError, statusArea, table, when,
} from "../ui.js";

// The providers POST /v1/credential accepts.
const PROVIDERS = [
  { value: "openai", name: "OpenAI", choice: "OpenAI, or a server that speaks its API" },
  { value: "anthropic", name: "Anthropic", choice: "Anthropic" },
  { value: "deepgram", name: "Deepgram", choice: "Deepgram (speech to text)" },
  { value: "elevenlabs", name: "ElevenLabs", choice: "ElevenLabs (voices)" },
];

function providerName(value) {
  const known = PROVIDERS.find((provider) => provider.value === value);
  return known ? known.name : value;
}

function describe(credential) {
  const name = credential.name ? ` “${credential.name}”` : "";
  return `the ${providerName(credential.provider)} credential${name}`;
}

function keyShown(credential) {
  if (!credential.is_api_key_set) return "not set";
  return credential.api_key_hint ? `set · ${credential.api_key_hint}` : "set";
}

register({ path: "credentials", nav: "Credentials", role: "editor", title: "Credentials", render });

function render(main) {
  const view = {
    status: el("div", { class: "status-area", "aria-live": "polite", tabindex: "-1" }),
    list: el("div", { class: "listing" }, el("p", { class: "quiet" }, "Loading credentials…")),
    editing: el("div"),
    adding: el("div"),
  };
  fill(
    main,
    heading("Credentials"),
    el(
      "p",
      { class: "quiet" },
      "Keys your assistants use to reach their providers. A key is stored encrypted and never shown again, only its last characters.",
    ),
    view.status,
    view.list,
    view.editing,
    view.adding,
  );
  fill(view.adding, addForm(view));
  load(view);
}

async function load(view) {
  let credentials;
  try {
    ({ body: credentials } = await api("GET", "/v1/credential?limit=1000"));
  } catch (error) {
    fill(view.list);
    showError(view.status, error);
    return;
  }
  const empty = emptyState(
    "Add your first provider key",
    "An assistant's model needs a key for its provider before it can hold a call: add your OpenAI or Anthropic key below. " +
      "For a model server of your own that speaks OpenAI's API, choose OpenAI and give its base URL (with any key it accepts).",
  );
  const columns = [
    { label: "Provider", cell: (credential) => providerName(credential.provider) },
    { label: "Name", cell: (credential) => credential.name || el("span", { class: "quiet" }, "—") },
    {
      label: "Base URL",
      cell: (credential) =>
        credential.base_url ? el("code", {}, credential.base_url) : el("span", { class: "quiet" }, "The provider's own"),
    },
    { label: "Key", cell: keyShown },
    { label: "Created", cell: (credential) => when(credential.created_at) },
    { label: "Updated", cell: (credential) => when(credential.updated_at) },
    { label: "Actions", cell: (credential) => rowActions(view, credential) },
  ];
  fill(view.list, table("Provider credentials", columns, credentials, empty));
}

function rowActions(view, credential) {
  const hidden = el("span", { class: "visually-hidden" }, ` ${describe(credential)}`);
  const place = el(
    "div",
    { class: "actions" },
    button(["Edit", hidden], () => edit(view, credential)),
    button(["Delete", hidden.cloneNode(true)], () =>
      confirmStep(
        place,
        `Delete ${describe(credential)}? Calls will no longer be able to use its key.`,
        "Delete credential",
        async () => {
          await api("DELETE", `/v1/credential/${credential.id}`);
          fill(view.status, notice(`Deleted ${describe(credential)}.`, "ok"));
          closeEditing(view);
          view.status.focus();
          await load(view);
        },
      ),
    ),
  );
  return place;
}

function formHead(id, title) {
  return el("h2", { id }, title);
}

function addForm(view) {
  const fields = {
    provider: field(
      "Provider",
      el("select", {}, PROVIDERS.map((provider) => el("option", { value: provider.value }, provider.choice))),
    ),
    name: field("Name", el("input", { type: "text", autocomplete: "off" }), "Optional: to tell your credentials apart, such as Production."),
    base_url: field(
      "Base URL",
      el("input", { type: "text", inputmode: "url", autocomplete: "off", spellcheck: "false" }),
      "Leave empty for the provider's own API. For a model server of your own, its address, such as https://models.clinic.example/v1.",
    ),
    api_key: field(
      "API key",
      el("input", { type: "password", autocomplete: "off", spellcheck: "false" }),
      "Stored encrypted. It is never shown again: only its last 4 characters, to tell keys apart.",
    ),
  };
  const status = statusArea();
  const form = el(
    "form",
    { class: "card", "aria-labelledby": "add-credential-title", novalidate: true },
    formHead("add-credential-title", "Add a credential"),
    el("div", { class: "grid" }, Object.values(fields).map((entry) => entry.wrap)),
    status,
    el("div", { class: "actions" }, button("Add credential", null, { kind: "primary", type: "submit" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(fields);
    fill(status);
    const body = { provider: fields.provider.control.value, api_key: fields.api_key.control.value };
    const name = fields.name.control.value.trim();
    const baseUrl = fields.base_url.control.value.trim();
    if (name) body.name = name;
    if (baseUrl) body.base_url = baseUrl;
    try {
      const { body: created } = await api("POST", "/v1/credential", { body });
      // The key leaves the page with the request: nothing keeps it once it is stored.
      form.reset();
      fill(view.status, notice(`Added ${describe(created)}.`, "ok"));
      await load(view);
    } catch (error) {
      showFieldError(status, error, fields);
    }
  });
  return form;
}

function closeEditing(view) {
  fill(view.editing);
  view.adding.hidden = false;
}

function edit(view, credential) {
  const trigger = document.activeElement;
  const fields = {
    name: field("Name", el("input", { type: "text", autocomplete: "off", value: credential.name || "" })),
    base_url: field(
      "Base URL",
      el("input", { type: "text", inputmode: "url", autocomplete: "off", spellcheck: "false", value: credential.base_url || "" }),
      "Leave empty for the provider's own API.",
    ),
    api_key: field(
      "New API key",
      el("input", { type: "password", autocomplete: "off", spellcheck: "false" }),
      `Leave empty to keep the key that is set${credential.api_key_hint ? ` (${credential.api_key_hint})` : ""}.`,
    ),
  };
  const status = statusArea();
  const form = el(
    "form",
    { class: "card", "aria-labelledby": "edit-credential-title", novalidate: true },
    formHead("edit-credential-title", `Edit ${describe(credential)}`),
    el("p", { class: "quiet" }, `The provider cannot change; for another provider, add another credential.`),
    el("div", { class: "grid" }, Object.values(fields).map((entry) => entry.wrap)),
    status,
    el(
      "div",
      { class: "actions" },
      button("Save", null, { kind: "primary", type: "submit" }),
      button("Cancel", () => {
        closeEditing(view);
        if (trigger instanceof HTMLElement && trigger.isConnected) trigger.focus();
      }),
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(fields);
    fill(status);
    const changes = {};
    const name = fields.name.control.value.trim();
    const baseUrl = fields.base_url.control.value.trim();
    if (name !== (credential.name || "")) changes.name = name || null;
    if (baseUrl !== (credential.base_url || "")) changes.base_url = baseUrl || null;
    // An empty key field keeps the stored key: the API replaces it only when one is sent.
    if (fields.api_key.control.value) changes.api_key = fields.api_key.control.value;
    try {
      if (Object.keys(changes).length > 0) {
        await api("PATCH", `/v1/credential/${credential.id}`, { body: changes });
      }
      closeEditing(view);
      fill(view.status, notice(`Saved ${describe({ ...credential, ...changes })}.`, "ok"));
      view.status.focus();
      await load(view);
    } catch (error) {
      showFieldError(status, error, fields);
    }
  });
  view.adding.hidden = true;
  fill(view.editing, form);
  fields.name.control.focus();
}
