// The form's controls for single values of an assistant. Each shows a value and, while the
// person leaves it untouched, reads back exactly that value, so a save sends only real edits.
// read(problems) adds [entry, message] to `problems` for what cannot be sent as it is.

import { el, field } from "../../ui.js";
import { isObject } from "./merge.js";

// Each part compares the control with the text it held when shown, as the control holds it
// (a text area turns "\r\n" into "\n", a number box drops what is not a number).
function asText(value) {
  return value === undefined || value === null ? "" : String(value);
}

/** A text box (or a larger text area with `multiline`). */
export function textPart(label, { multiline = false, hint, type = "text", required = false } = {}) {
  const control = multiline
    ? el("textarea", { rows: 4 })
    : el("input", { type, autocomplete: "off", spellcheck: type === "url" ? "false" : null, required });
  const entry = field(label, control, hint);
  let showing = { text: "", value: undefined };
  return {
    node: entry.wrap,
    entry,
    wide: multiline,
    show(value) {
      control.value = asText(value);
      showing = { text: control.value, value };
    },
    read() {
      if (control.value === showing.text) return showing.value;
      return control.value === "" ? undefined : control.value;
    },
  };
}

/** A number box; `integer` for whole numbers. */
export function numberPart(label, { integer = false, hint } = {}) {
  const control = el("input", { type: "number", step: integer ? "1" : "any", inputmode: integer ? "numeric" : "decimal" });
  const entry = field(label, control, hint);
  let showing = { text: "", value: undefined };
  return {
    node: entry.wrap,
    entry,
    show(value) {
      control.value = asText(value);
      showing = { text: control.value, value };
    },
    read(problems) {
      if (control.validity.badInput) {
        problems.push([entry, `${label}: enter a number`]);
        return showing.value;
      }
      if (control.value === showing.text) return showing.value;
      if (control.value === "") return undefined;
      const number = Number(control.value);
      if (integer && !Number.isInteger(number)) problems.push([entry, `${label}: enter a whole number`]);
      return number;
    },
  };
}

/**
 * A choice among `options` ([value, words] pairs), or none when `optional`; a value it does
 * not list is kept.
 */
export function choicePart(label, options, { hint, optional = true } = {}) {
  const control = el(
    "select",
    {},
    optional ? el("option", { value: "" }, "Not set") : null,
    options.map(([value, words]) => el("option", { value }, words)),
  );
  const entry = field(label, control, hint);
  let showing = { text: "", value: undefined };
  return {
    node: entry.wrap,
    entry,
    show(value) {
      const text = asText(value);
      if (![...control.options].some((option) => option.value === text)) {
        control.append(el("option", { value: text }, text));
      }
      control.value = text;
      showing = { text: control.value, value };
    },
    read() {
      if (control.value === showing.text) return showing.value;
      return control.value === "" ? undefined : control.value;
    },
  };
}

/** A JSON object typed as text, checked as JSON here before it is sent. */
export function jsonPart(label, { hint } = {}) {
  const control = el("textarea", { rows: 6, spellcheck: "false", class: "code" });
  const entry = field(label, control, hint);
  let showing = { text: "", value: undefined };

  function parsed() {
    if (control.value.trim() === "") return { value: undefined };
    try {
      const value = JSON.parse(control.value);
      return isObject(value) ? { value } : { problem: `${label}: must be a JSON object ({ ... })` };
    } catch (error) {
      return { problem: `${label}: not valid JSON (${error.message})` };
    }
  }

  // Said beside the field as soon as the person leaves it, not only when saving.
  control.addEventListener("change", () => {
    const { problem } = control.value === showing.text ? {} : parsed();
    entry.error.replaceChildren(problem || "");
    if (problem) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  });

  return {
    node: entry.wrap,
    entry,
    wide: true,
    show(value) {
      control.value = value === undefined ? "" : JSON.stringify(value, null, 2);
      showing = { text: control.value, value };
    },
    read(problems) {
      if (control.value === showing.text) return showing.value;
      const { value, problem } = parsed();
      if (problem) problems.push([entry, problem]);
      return value;
    },
  };
}
