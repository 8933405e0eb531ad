// One assistant's page (#/assistants/<id>) and the new-assistant form (#/assistants/new):
// every field, saved with the ETag it was read at. A save that meets a colleague's newer
// version says so, takes their version in under the edits, and keeps the edits in the form.

import {
  ApiError, api, button, can, confirmStep, el, fill, go, heading, notice, setFieldError, statusArea, when,
} from "../../ui.js";
import { assistantForm } from "./assistant_form.js";
import { conflictNotice } from "./conflict.js";
import { carry, carried } from "./flash.js";
import { rebase, same } from "./merge.js";
import { madeBy, newestVersion, userEmails } from "./versions.js";
import { CONFIGURABLE, pathWords } from "./words.js";

/** Draw the page for assistant `id` (null: a new one) into `main` while `life.alive`. */
export async function editPage(main, id, life) {
  const editable = can("editor");
  if (id === null && !editable) {
    fill(main, el("h1", {}, "New assistant"), notice("Creating an assistant needs the editor role.", "error"));
    return;
  }
  const path = id === null ? null : `/v1/assistant/${encodeURIComponent(id)}`;
  const status = statusArea();
  const form = assistantForm({ editable });
  let loaded = null; // the assistant as last read from the server: what the edits start from
  let etag = null;
  let saving = false;

  const head = heading(id === null ? "New assistant" : "Assistant");
  if (id === null) document.title = "New assistant · Clarion console";
  const title = head.querySelector("h1");
  const about = el("p", { class: "quiet" });
  const save = editable ? button("Save", null, { kind: "primary", type: "submit" }) : null;
  const formNode = el("form", { novalidate: true, "aria-label": "Assistant fields" }, form.node, el("div", { class: "actions" }, save));
  formNode.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!saving) saveForm();
  });

  if (id !== null) {
    try {
      const [{ body, headers }, newest] = await Promise.all([api("GET", path), newestVersion(id)]);
      if (!life.alive) return;
      loaded = body;
      etag = headers.get("ETag");
      describe(newest);
    } catch (error) {
      if (!life.alive) return;
      fill(main, el("h1", {}, "Assistant"), notice(error.message, "error"), el("p", {}, historyLink("Its history")));
      return;
    }
    const actions = head.querySelector(".actions");
    actions.append(button("History", () => go(`assistants/${id}/history`)));
    if (editable) actions.append(deleteControl());
  }
  form.show(loaded);
  const message = carried();
  if (message) fill(status, notice(message, "ok"));
  fill(main, head, about, status, formNode);
  // After the frame has focused the page's main area (it does once the page is drawn).
  if (id === null) queueMicrotask(() => life.alive && form.focusFirst());

  function historyLink(text) {
    return el("a", { href: `#/assistants/${encodeURIComponent(id)}/history` }, text);
  }

  function describe(newest) {
    title.textContent = loaded.name;
    document.title = `${loaded.name} · Clarion console`;
    fill(about, `Version ${newest.version} · updated ${when(loaded.updated_at)}`, editable ? "" : " · read only for your role");
  }

  async function saveForm() {
    form.clearErrors();
    fill(status);
    const { configuration, secret, problems } = form.read();
    if (problems.length > 0) {
      for (const [entry, problem] of problems) setFieldError(entry, problem);
      fill(status, notice(`Not saved: ${problems.length === 1 ? "a field needs" : `${problems.length} fields need`} a change.`, "error"));
      focusControl(problems[0][0]);
      return;
    }
    saving = true;
    try {
      if (loaded === null) await create(configuration, secret);
      else await update(configuration, secret);
    } catch (error) {
      if (life.alive) refused(error, configuration);
    } finally {
      saving = false;
    }
  }

  async function create(configuration, secret) {
    const body = Object.fromEntries(CONFIGURABLE.filter((name) => configuration[name] !== undefined).map((name) => [name, configuration[name]]));
    if (typeof secret === "string") body.webhook_secret = secret;
    const created = await api("POST", "/v1/assistant", { body });
    carry(`Created “${created.body.name}”: version 1.`);
    go(`assistants/${created.body.id}`);
  }

  async function update(configuration, secret) {
    const changes = {};
    for (const name of CONFIGURABLE) {
      if (!same(loaded[name], configuration[name])) changes[name] = configuration[name] === undefined ? null : configuration[name];
    }
    if (secret !== undefined) changes.webhook_secret = secret;
    if (Object.keys(changes).length === 0) {
      fill(status, notice("Nothing to save: no field was changed.", "info"));
      return;
    }
    const { body, headers } = await api("PATCH", path, { body: changes, headers: { "If-Match": etag } });
    const newest = await newestVersion(id);
    if (!life.alive) return;
    loaded = body;
    etag = headers.get("ETag");
    form.show(loaded);
    describe(newest);
    fill(status, notice(`Saved: this is version ${newest.version}.`, "ok"));
  }

  async function refused(error, mine) {
    if (error instanceof ApiError && error.status === 412) {
      await meetNewerVersion(mine);
      return;
    }
    if (error instanceof ApiError && error.status === 404 && loaded !== null) {
      fill(status, notice("This assistant was deleted while you were editing; your edits are still in the form.", "error"), el("p", {}, historyLink("Its history can restore it.")));
      return;
    }
    const target = error instanceof ApiError && error.status === 400 ? form.targetOf(error.message) : null;
    if (target === null) {
      fill(status, notice(`Not saved: ${error.message}`, "error"));
      return;
    }
    const [named, entry] = target;
    setFieldError(entry, error.message);
    fill(status, notice(`Not saved: ${pathWords(named.replace(/\[\d+\].*$/, ""))} needs a change (said beside it).`, "error"));
    focusControl(entry);
  }

  async function meetNewerVersion(mine) {
    try {
      const [{ body: theirs, headers }, newest, emails] = await Promise.all([api("GET", path), newestVersion(id), userEmails()]);
      if (!life.alive) return;
      const rebased = rebase(CONFIGURABLE, loaded, mine, theirs);
      const before = loaded;
      loaded = theirs;
      etag = headers.get("ETag");
      form.show({ ...theirs, ...rebased }, { keepTyped: true });
      describe(newest);
      const shown = conflictNotice({ before, mine, theirs, rebased, version: newest, by: madeBy(newest, emails) });
      fill(status, shown);
      shown.querySelector("h2").focus();
    } catch (error) {
      if (life.alive) refused(error, mine);
    }
  }

  function deleteControl() {
    const place = el("div", {});
    const ask = () => confirmStep(place, `Delete “${loaded.name}”? Its history stays, and can restore it.`, "Delete assistant", remove);
    fill(place, button("Delete", ask, { kind: "danger" }));
    return place;
  }

  async function remove() {
    try {
      await api("DELETE", path, { headers: { "If-Match": etag } });
    } catch (error) {
      if (error instanceof ApiError && error.status === 412) {
        throw new ApiError(412, "Not deleted: someone else saved a newer version meanwhile. Reload the page to see it.");
      }
      throw error;
    }
    carry(`Deleted “${loaded.name}”. Its history stays readable and can restore it.`);
    go("assistants");
  }
}

function focusControl(entry) {
  if (entry.control.matches("input, select, textarea")) entry.control.focus();
}
