// An assistant's history (#/assistants/<id>/history): every version, who made it and what it
// changed; any two side by side; and, for editors, a version made current again.

import {
  ApiError, api, button, can, confirmStep, el, field, fill, heading, link, notice, statusArea, table, when,
} from "../../ui.js";
import { compare, diffGrid } from "./diff.js";
import { madeBy, userEmails } from "./versions.js";
import { fieldWords } from "./words.js";

const VERSIONS_SHOWN = 1000; // the most the API lists at once

const ACTIONS = { created: "Created", updated: "Updated", deleted: "Deleted", restored: "Restored" };

function changedWords(record) {
  return record.changed_fields
    .map((name) => (name === "webhook_secret" && record.webhook_secret ? `Webhook secret (${record.webhook_secret})` : fieldWords(name)))
    .join(", ");
}

async function current(path) {
  try {
    const { body, headers } = await api("GET", path);
    return { assistant: body, etag: headers.get("ETag") };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { assistant: null, etag: null };
    throw error;
  }
}

/** Draw the history of assistant `id` into `main` while `life.alive`; `said` is shown on top. */
export async function historyPage(main, id, life, said = null) {
  const path = `/v1/assistant/${encodeURIComponent(id)}`;
  let now;
  let versions;
  let emails;
  try {
    [now, { body: versions }, emails] = await Promise.all([
      current(path),
      api("GET", `${path}/versions?limit=${VERSIONS_SHOWN}`),
      userEmails(),
    ]);
  } catch (error) {
    if (life.alive) fill(main, el("h1", {}, "History"), notice(error.message, "error"));
    return;
  }
  if (!life.alive) return;
  const { assistant, etag } = now;
  const deleted = assistant === null;
  const name = deleted ? versions[0].configuration.name : assistant.name;
  const status = statusArea();
  const restoring = can("editor");
  const redraw = (text, kind) => historyPage(main, id, life, [text, kind]);

  const columns = [
    {
      label: "Version",
      cell: (record) => [String(record.version), record === versions[0] && !deleted ? [" ", el("span", { class: "badge live" }, "current")] : null],
    },
    { label: "Action", cell: (record) => ACTIONS[record.action] || record.action },
    { label: "Changed fields", cell: (record) => changedWords(record) || "—" },
    { label: "When", cell: (record) => when(record.created_at) },
    { label: "By", cell: (record) => madeBy(record, emails) },
  ];
  if (restoring) {
    columns.push({
      label: "Restore",
      cell: (record) => (record.action === "deleted" || (record === versions[0] && !deleted) ? "—" : restoreControl(record)),
    });
  }

  function restoreControl(record) {
    const place = el("div", {});
    const question = `Make version ${record.version} current again, as a new version?`;
    const ask = () => confirmStep(place, question, `Restore version ${record.version}`, () => restore(record));
    fill(place, button("Restore", ask));
    return place;
  }

  async function restore(record) {
    let restored;
    try {
      const headers = etag ? { "If-Match": etag } : {};
      ({ body: restored } = await api("POST", `${path}/versions/${record.version}/restore`, { headers }));
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 412)) throw error;
      await redraw("Not restored: someone else saved a newer version meanwhile, listed below. Restore again if you still want to.", "error");
      return;
    }
    if (life.alive) await redraw(`Version ${record.version} restored: “${restored.name}” is back as it was then, as a new version.`, "ok");
  }

  document.title = `History of ${name} · Clarion console`;
  const back = deleted ? null : link(`assistants/${encodeURIComponent(id)}`, "Back to the assistant");
  fill(
    main,
    heading(`History of “${name}”`, back),
    status,
    deleted ? notice("This assistant is deleted. Restoring a version brings it back under the same id.", "info") : null,
    table("Versions, newest first", columns, versions, null),
    versions.length === VERSIONS_SHOWN ? el("p", { class: "quiet" }, `The newest ${VERSIONS_SHOWN} versions are listed.`) : null,
    comparison(versions),
  );
  if (said) {
    const shown = notice(said[0], said[1]);
    shown.tabIndex = -1;
    fill(status, shown);
    shown.focus();
  }
}

/** Two selects, "Compare", and the two versions side by side. */
function comparison(versions) {
  const result = el("div", { class: "comparison", "aria-live": "polite" });
  if (versions.length < 2) {
    return el("section", {}, el("h2", {}, "Compare two versions"), el("p", {}, "There is one version so far: nothing to compare it with."));
  }
  const options = (selected) =>
    versions.map((record) => el("option", { value: String(record.version), selected: record === selected }, `Version ${record.version} · ${ACTIONS[record.action] || record.action} · ${when(record.created_at)}`));
  const from = field("From version", el("select", {}, options(versions[1])));
  const to = field("To version", el("select", {}, options(versions[0])));
  from.control.value = String(versions[1].version);
  to.control.value = String(versions[0].version);
  const onlyChanged = el("input", { type: "checkbox", id: "only-changed" });
  const byNumber = new Map(versions.map((record) => [String(record.version), record]));

  function draw() {
    const older = byNumber.get(from.control.value);
    const newer = byNumber.get(to.control.value);
    const grid = diffGrid([`Version ${older.version}`, `Version ${newer.version}`], compare(older.configuration, newer.configuration));
    grid.classList.toggle("only-changed", onlyChanged.checked);
    const changes = compare(older.configuration, newer.configuration).filter((row) => row.changed).length;
    fill(
      result,
      el("h3", {}, `Version ${older.version} beside version ${newer.version}`),
      el("p", {}, changes === 0 ? "They are the same." : `${changes} ${changes === 1 ? "value differs" : "values differ"}, marked “changed”.`),
      grid,
    );
  }
  onlyChanged.addEventListener("change", () => {
    const grid = result.querySelector(".diff");
    if (grid) grid.classList.toggle("only-changed", onlyChanged.checked);
  });

  return el(
    "section",
    { "aria-labelledby": "compare-title" },
    el("h2", { id: "compare-title" }, "Compare two versions"),
    el(
      "div",
      { class: "filters" },
      from.wrap,
      to.wrap,
      el("div", { class: "field check" }, onlyChanged, el("label", { for: onlyChanged.id }, "Only the changed fields")),
      button("Compare", draw, { kind: "primary" }),
    ),
    result,
  );
}
