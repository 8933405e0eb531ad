// The model's prompt in the form: the system prompt in a box of its own, then the further
// messages (examples of the exchange, say), each with its role, added and removed in place.

import { button, el, field } from "../../ui.js";
import { choicePart, textPart } from "./parts.js";
import { isObject } from "./merge.js";

const ROLES = [
  ["system", "System"],
  ["user", "User (the caller)"],
  ["assistant", "Assistant"],
];

/** The `model.messages` list; `editable` adds the buttons that add and remove messages. */
export function messagesPart({ editable }) {
  const system = textPart("System prompt", {
    multiline: true,
    hint: "What the model is told before the conversation: who it is, what it may and may not do.",
  });
  const list = el("ol", { class: "messages" });
  const error = el("p", { class: "field-error", role: "alert" });
  const group = { control: list, error };
  let rows = [];
  let showing = { snapshot: "", value: undefined, systemOriginal: null };
  let order = [];

  function snapshot() {
    return JSON.stringify([system.entry.control.value, rows.map((row) => [row.role.entry.control.value, row.text.entry.control.value])]);
  }

  function renumber() {
    rows.forEach((row, index) => {
      row.legend.textContent = `Message ${index + 1}`;
      if (row.remove) row.remove.textContent = `Remove message ${index + 1}`;
    });
  }

  function addRow(message) {
    const role = choicePart("Role", ROLES, { optional: false });
    const text = textPart("Text", { multiline: true });
    role.show(message.role);
    text.show(message.content);
    const row = { original: message, role, text, legend: el("legend", {}) };
    if (editable) {
      row.remove = button("Remove message", () => {
        const at = rows.indexOf(row);
        rows.splice(at, 1);
        row.node.remove();
        renumber();
        (rows[at] ? rows[at].role.entry.control : add).focus();
      });
    }
    row.node = el("li", {}, el("fieldset", {}, row.legend, role.node, text.node, row.remove || null));
    rows.push(row);
    list.append(row.node);
    renumber();
    return row;
  }

  const add = editable
    ? button("Add message", () => addRow({ role: "user", content: "" }).role.entry.control.focus())
    : null;
  const node = el(
    "div",
    { class: "messages-part" },
    system.node,
    el("h3", {}, "Further messages"),
    el("p", { class: "hint" }, "Read by the model after the system prompt, in this order."),
    list,
    error,
    add,
  );

  return {
    node,
    wide: true,
    show(messages) {
      rows = [];
      list.replaceChildren();
      const all = Array.isArray(messages) ? messages : [];
      const at = all.findIndex((message) => isObject(message) && message.role === "system" && typeof message.content === "string");
      system.show(at >= 0 ? all[at].content : undefined);
      order = all.map((message, index) => (index === at ? system.entry : addRow(isObject(message) ? message : {}).text.entry));
      showing = { snapshot: snapshot(), value: messages, systemOriginal: at >= 0 ? all[at] : null };
    },
    read() {
      if (snapshot() === showing.snapshot) return showing.value;
      const messages = [];
      order = [];
      const prompt = system.entry.control.value;
      if (prompt !== "") {
        messages.push({ ...(showing.systemOriginal || {}), role: "system", content: prompt });
        order.push(system.entry);
      }
      for (const row of rows) {
        messages.push({ ...row.original, role: row.role.entry.control.value || "user", content: row.text.entry.control.value });
        order.push(row.text.entry);
      }
      return messages.length > 0 ? messages : undefined;
    },
    /** Where an error naming `path` (model.messages) or one of its messages is shown. */
    targets(path) {
      return [[path, group], ...order.map((entry, index) => [`${path}[${index}]`, entry])];
    },
    entries() {
      return [group, system.entry, ...rows.flatMap((row) => [row.role.entry, row.text.entry])];
    },
  };
}
