// Users: the people who sign in to the console, with their roles. An owner invites someone
// (who gets a one-time password, shown once, to change at first sign-in) and disables an
// account, which ends its sessions at once and revokes the API keys it created.

import {
  api, button, clearFieldErrors, confirmStep, el, field, fill, heading, notice, oneTimeSecret,
  register, session, showError, showFieldError, statusArea, table, when,
} from "../ui.js";

const ROLES = [
  { value: "viewer", text: "Viewer: reads assistants, calls and deliveries" },
  { value: "editor", text: "Editor: also edits assistants, tries them and manages credentials" },
  { value: "owner", text: "Owner: also manages users, API keys and phone numbers" },
];

register({ path: "users", nav: "Users", role: "owner", title: "Users", render });

function render(main) {
  const view = {
    status: el("div", { class: "status-area", "aria-live": "polite", tabindex: "-1" }),
    list: el("div", { class: "listing" }, el("p", { class: "quiet" }, "Loading users…")),
    fresh: el("div"),
  };
  fill(main, heading("Users"), view.status, view.list, inviteForm(view), view.fresh);
  load(view);
}

async function load(view) {
  let users;
  try {
    ({ body: users } = await api("GET", "/v1/user"));
  } catch (error) {
    fill(view.list);
    showError(view.status, error);
    return;
  }
  const columns = [
    {
      label: "Email",
      cell: (user) => [user.email, isYou(user) ? el("span", { class: "quiet" }, " (you)") : null],
    },
    { label: "Role", cell: (user) => user.role },
    { label: "Created", cell: (user) => when(user.created_at) },
    {
      label: "Disabled",
      cell: (user) => (user.disabled_at ? el("span", { class: "badge failed" }, `Disabled ${when(user.disabled_at)}`) : "No"),
    },
    { label: "Must change password", cell: (user) => (user.must_change_password ? "Yes" : "No") },
    { label: "Actions", cell: (user) => (user.disabled_at || isYou(user) ? "" : rowActions(view, user)) },
  ];
  // Never empty: whoever reads this page is a user of the organization.
  fill(view.list, table("Console users", columns, users, notice("No users yet.")));
}

function isYou(user) {
  return session.user !== null && user.user_id === session.user.user_id;
}

function rowActions(view, user) {
  const place = el(
    "div",
    { class: "actions" },
    button(["Disable", el("span", { class: "visually-hidden" }, ` ${user.email}`)], () =>
      confirmStep(
        place,
        `Disable ${user.email}? Their sessions end now, they cannot sign in again, and the API keys they created are revoked too: programs using those keys are refused.`,
        "Disable user",
        async () => {
          const { body: disabled } = await api("POST", `/v1/user/${user.user_id}/disable`);
          fill(view.status, notice(`Disabled ${user.email}.${revokedKeys(disabled.revoked_api_keys)}`, "ok"));
          view.status.focus();
          await load(view);
        },
      ),
    ),
  );
  return place;
}

function revokedKeys(count) {
  if (!count) return "";
  return count === 1 ? " Revoked the API key they created." : ` Revoked the ${count} API keys they created.`;
}

function inviteForm(view) {
  const fields = {
    email: field("Email", el("input", { type: "email", autocomplete: "off", spellcheck: "false" })),
    role: field(
      "Role",
      el("select", {}, ROLES.map((role) => el("option", { value: role.value }, role.text))),
    ),
  };
  const status = statusArea();
  const form = el(
    "form",
    { class: "card", "aria-labelledby": "invite-title", novalidate: true },
    el("h2", { id: "invite-title" }, "Invite a person"),
    el("p", { class: "quiet" }, "They get a one-time password to sign in with, and choose their own at first sign-in."),
    el("div", { class: "grid" }, fields.email.wrap, fields.role.wrap),
    status,
    el("div", { class: "actions" }, button("Invite", null, { kind: "primary", type: "submit" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(fields);
    fill(status);
    fill(view.fresh);
    let invited;
    try {
      ({ body: invited } = await api("POST", "/v1/user", {
        body: { email: fields.email.control.value, role: fields.role.control.value },
      }));
    } catch (error) {
      showFieldError(status, error, fields);
      return;
    }
    form.reset();
    const box = oneTimeSecret(
      `One-time password for ${invited.email}`,
      invited.password,
      `Give it to them yourself, by a way only they read: they sign in with ${invited.email} and this password, then choose their own at first sign-in.`,
      "It will not be shown again.",
    );
    fill(view.fresh, box);
    box.focus();
    await load(view);
  });
  return form;
}
