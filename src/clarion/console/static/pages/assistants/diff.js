// Two configurations side by side: a row for each field (and each key of the JSON parts),
// the older value beside the newer one, the rows that changed marked in colour and in words.

import { el } from "../../ui.js";
import { CONFIGURABLE, DOCUMENT_KEYS, DOCUMENTS, pathWords } from "./words.js";
import { isObject, same } from "./merge.js";

/** A configuration as rows: [path, value] for each field and each key of its documents. */
export function flatten(configuration) {
  const rows = new Map();
  for (const name of CONFIGURABLE) {
    const value = configuration[name];
    if (DOCUMENTS.has(name) && isObject(value)) {
      const known = Object.keys(DOCUMENT_KEYS[name]).filter((key) => key in value);
      const others = Object.keys(value).filter((key) => !(key in DOCUMENT_KEYS[name])).sort();
      for (const key of [...known, ...others]) rows.set(`${name}.${key}`, value[key]);
    } else {
      rows.set(name, value);
    }
  }
  rows.set("is_webhook_secret_set", configuration.is_webhook_secret_set);
  return rows;
}

/** A value as a person reads it. */
export function shown(path, value) {
  if (path === "is_webhook_secret_set") return value ? "set" : "not set";
  if (value === undefined || value === null) return "not set";
  if (value === "") return "(empty)";
  if (typeof value === "string") return value;
  if (path.endsWith(".messages") && Array.isArray(value)) {
    return value
      .map((message) => (isObject(message) ? `${message.role}: ${message.content}` : JSON.stringify(message)))
      .join("\n\n");
  }
  if (typeof value === "object") return JSON.stringify(value, null, 2);
  return String(value);
}

/** The paths of two configurations' rows, in order, with whether each changed. */
export function compare(before, after) {
  const left = flatten(before);
  const right = flatten(after);
  const paths = [...new Set([...right.keys(), ...left.keys()])];
  const order = (path) => {
    const at = CONFIGURABLE.indexOf(path.split(".")[0]);
    return at === -1 ? CONFIGURABLE.length : at;
  };
  paths.sort((a, b) => (order(a) === order(b) ? 0 : order(a) - order(b)));
  return paths
    .filter((path) => left.get(path) !== undefined || right.get(path) !== undefined)
    .map((path) => ({ path, before: left.get(path), after: right.get(path), changed: !same(left.get(path), right.get(path)) }));
}

/**
 * The side-by-side grid: `rows` from compare(); `titles` name the two columns. The
 * unchanged rows carry the class "same", hidden when the grid has "only-changed".
 */
export function diffGrid(titles, rows) {
  const [leftTitle, rightTitle] = titles;
  const cells = [el("div", { class: "head" }, leftTitle), el("div", { class: "head" }, rightTitle)];
  for (const row of rows) {
    const kind = row.changed ? "changed" : "same";
    cells.push(
      el("div", { class: `name ${kind}` }, pathWords(row.path), row.changed ? el("span", { class: "marker" }, " — changed") : null),
      el("div", { class: kind }, el("span", { class: "visually-hidden" }, `${leftTitle}: `), shown(row.path, row.before)),
      el("div", { class: kind }, el("span", { class: "visually-hidden" }, `${rightTitle}: `), shown(row.path, row.after)),
    );
  }
  return el("div", { class: "diff" }, cells);
}
