// What the assistant's page says when a save meets a colleague's newer version: who saved
// which version, what of theirs was taken into the form, and, where the two still differ,
// their value beside the one in the form.

import { el, when } from "../../ui.js";
import { compare, diffGrid } from "./diff.js";
import { same } from "./merge.js";
import { CONFIGURABLE, fieldWords } from "./words.js";

let headings = 0;

/**
 * The notice: `before` is what the edit started from, `mine` what the form said, `theirs`
 * the newer assistant and `rebased` the edit made on top of it (now in the form).
 */
export function conflictNotice({ before, mine, theirs, rebased, version, by }) {
  headings += 1;
  const id = `conflict-${headings}`;
  const taken = CONFIGURABLE.filter((name) => !same(before[name], theirs[name]) && same(before[name], mine[name]));
  const inForm = { ...rebased, is_webhook_secret_set: theirs.is_webhook_secret_set };
  const differing = compare(theirs, inForm).filter((row) => row.changed);
  const title = el("h2", { id, tabindex: "-1" }, `Someone else saved version ${version.version} while you were editing`);
  return el(
    "section",
    { class: "conflict", "aria-labelledby": id },
    title,
    el("p", {}, `Version ${version.version} was saved ${when(version.created_at)} by ${by}. Nothing of yours was saved yet, and your edits are still in the form.`),
    taken.length > 0
      ? el("p", {}, `Their changes to what you had not edited are now in the form: ${taken.map(fieldWords).join(", ")}.`)
      : null,
    differing.length > 0
      ? [
          el("p", {}, "Where the form still differs from their version, theirs is beside yours:"),
          diffGrid([`Version ${version.version} (theirs)`, "Yours (in the form)"], differing),
          el("p", {}, "Save again to apply your edits on top of their version, or change the form first."),
        ]
      : el("p", {}, "Your edits are the same as theirs: there is nothing more to save."),
  );
}
