// The console's frame: sign-in, the first password change, the navigation by role, and the
// page the address names.

import {
  api, button, can, el, field, fill, notice, pages, session, setFieldError, statusArea,
  showError, whenSignedOut,
} from "./ui.js";
import "./pages/assistants.js";
import "./pages/calls.js";
import "./pages/try.js";
import "./pages/deliveries.js";
import "./pages/credentials.js";
import "./pages/api_keys.js";
import "./pages/users.js";
import "./pages/access_log.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let leave = null;

function leavePage() {
  if (typeof leave === "function") leave();
  leave = null;
}

function signInPage(message) {
  leavePage();
  fill(nav);
  fill(who);
  document.title = "Sign in · Clarion console";
  const email = field("Email", el("input", { type: "email", name: "email", autocomplete: "username", required: true }));
  const password = field(
    "Password",
    el("input", { type: "password", name: "password", autocomplete: "current-password", required: true }),
  );
  const status = statusArea();
  if (message) fill(status, notice(message, "info"));
  const form = el(
    "form",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    el("h1", { id: "sign-in-title" }, "Sign in"),
    email.wrap,
    password.wrap,
    status,
    el("div", { class: "actions" }, button("Sign in", null, { kind: "primary", type: "submit" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fill(status);
    try {
      const { body } = await api("POST", "/v1/session", {
        body: { email: email.control.value, password: password.control.value },
      });
      session.user = body;
      start();
    } catch (error) {
      showError(status, error);
      password.control.value = "";
      password.control.focus();
    }
  });
  fill(main, form);
  email.control.focus();
}

function changePasswordPage() {
  leavePage();
  fill(nav);
  drawWho();
  document.title = "Choose a password · Clarion console";
  const current = field(
    "Current password",
    el("input", { type: "password", autocomplete: "current-password", required: true }),
    "The one-time password you were given.",
  );
  const next = field(
    "New password",
    el("input", { type: "password", autocomplete: "new-password", required: true, minlength: 12 }),
    "At least 12 characters.",
  );
  const status = statusArea();
  const form = el(
    "form",
    { class: "card narrow" },
    el("h1", {}, "Choose your password"),
    el("p", {}, "Your account was given a one-time password. Choose your own to go on."),
    current.wrap,
    next.wrap,
    status,
    el("div", { class: "actions" }, button("Save", null, { kind: "primary", type: "submit" })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setFieldError(current, null);
    setFieldError(next, null);
    try {
      await api("POST", "/v1/session/password", {
        body: { current_password: current.control.value, new_password: next.control.value },
      });
      session.user.must_change_password = false;
      start();
    } catch (error) {
      const target = error.message.startsWith("current_password") ? current : next;
      setFieldError(target, error.message);
      target.control.focus();
    }
  });
  fill(main, form);
  current.control.focus();
}

async function signOut() {
  try {
    await api("DELETE", "/v1/session");
  } catch {
    // Gone already: signed out either way.
  }
  session.user = null;
  signInPage("You are signed out.");
}

function drawWho() {
  fill(
    who,
    el("span", { class: "quiet" }, `${session.user.email} · ${session.user.role}`),
    button("Sign out", signOut),
  );
}

function drawNav(current) {
  const links = pages
    .filter((page) => page.nav && can(page.role))
    .map((page) =>
      el("a", { href: `#/${page.path}`, "aria-current": page.path === current ? "page" : null }, page.nav),
    );
  fill(nav, el("ul", {}, links.map((link) => el("li", {}, link))));
}

// A part of the address as it was meant; one that is not valid percent-encoding stays as typed.
function decoded(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function route() {
  if (!session.user) return;
  if (session.user.must_change_password) {
    changePasswordPage();
    return;
  }
  leavePage();
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decoded);
  const path = parts[0] || "assistants";
  const page = pages.find((candidate) => candidate.path === path);
  drawNav(page ? page.path : null);
  drawWho();
  if (!page) {
    fill(main, el("h1", {}, "Not found"), el("p", {}, "There is no such page in the console."));
    return;
  }
  if (!can(page.role)) {
    fill(
      main,
      el("h1", {}, page.title || page.nav),
      notice(`This page needs the ${page.role} role; yours is ${session.user.role}.`, "error"),
    );
    return;
  }
  document.title = `${page.title || page.nav} · Clarion console`;
  fill(main);
  // Focus goes to the new page first; a page that puts it on one of its controls then wins.
  main.focus({ preventScroll: true });
  const drawn = ++drawing;
  const result = page.render(main, parts.slice(1));
  Promise.resolve(result).then((cleanup) => {
    // A page left before it finished drawing cleans up at once.
    if (drawn === drawing) leave = cleanup;
    else if (typeof cleanup === "function") cleanup();
  });
}

let drawing = 0;

function start() {
  route();
}

whenSignedOut((message) => signInPage(message));
window.addEventListener("hashchange", route);

(async () => {
  try {
    const { body } = await api("GET", "/v1/session");
    session.user = body;
    start();
  } catch (error) {
    signInPage(error.status === 401 && !/not signed in|missing bearer/.test(error.message) ? error.message : null);
  }
})();
