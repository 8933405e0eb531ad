// Every field of an assistant as one form: shown from an assistant, read back as the
// configuration to save, and each error put beside the field it names.

import { el, field, setFieldError } from "../../ui.js";
import { numberPart, textPart } from "./parts.js";
import { analysisPart, modelPart, transcriberPart, voicePart } from "./documents.js";
import { CONFIGURABLE } from "./words.js";

// The field an error message names first: "model.temperature: ...", "name is required",
// "unknown field 'x'", "'id' is read-only".
const NAMED = /^(?:unknown field )?'?([A-Za-z_]\w*(?:\.\w+|\[\d+\])*)'?(?=[: ]|$)/;

/** The webhook secret: write-only, so only whether one is set, and a way to set or remove it. */
function secretPart({ editable }) {
  const state = el("strong", {});
  const status = el("p", { class: "secret-state" }, "Webhook secret: ", state);
  if (!editable) {
    return { node: el("div", { class: "field" }, status), show: (set) => tell(state, set), read: () => undefined, entries: () => [], targets: () => [] };
  }
  const entry = field(
    "New webhook secret",
    el("input", { type: "password", autocomplete: "new-password" }),
    "Sent with each report in the X-Clarion-Secret header, and never shown again. Leave empty to keep the secret as it is.",
  );
  const remove = el("input", { type: "checkbox", id: `${entry.id}-remove` });
  const removing = el("div", { class: "field check" }, remove, el("label", { for: remove.id }, "Remove the webhook secret"));
  return {
    node: el("div", {}, status, entry.wrap, removing),
    show(set, { keepTyped = false } = {}) {
      tell(state, set);
      if (!keepTyped) {
        entry.control.value = "";
        remove.checked = false;
      }
      removing.hidden = !set;
    },
    read() {
      if (entry.control.value !== "") return entry.control.value;
      return remove.checked && !removing.hidden ? null : undefined;
    },
    entries: () => [entry],
    targets: () => [["webhook_secret", entry]],
  };
}

function tell(state, set) {
  state.textContent = set ? "set" : "not set";
}

/** The form's fields; `editable` false shows them read-only. */
export function assistantForm({ editable }) {
  const parts = {
    name: textPart("Name", { required: true }),
    first_message: textPart("First message", {
      multiline: true,
      hint: "What the assistant says when the call begins. {{name}} placeholders are filled for each call.",
    }),
    voicemail_message: textPart("Voicemail message", {
      multiline: true,
      hint: "What the assistant leaves when an answering machine takes the call.",
    }),
    model: modelPart({ editable }),
    voice: voicePart(),
    transcriber: transcriberPart(),
    max_duration_seconds: numberPart("Maximum duration (seconds)", { integer: true, hint: "From 10 to 43200 (12 hours)." }),
    silence_timeout_seconds: numberPart("Silence timeout (seconds)", {
      integer: true,
      hint: "How long the caller may stay silent before the call ends: from 5 to 3600; 30 when empty.",
    }),
    analysis_plan: analysisPart(),
    webhook_url: textPart("Webhook URL", { type: "url", hint: "Where the end-of-call report is sent (http or https)." }),
  };
  const secret = secretPart({ editable });
  const node = el(
    "div",
    { class: "assistant-fields" },
    el("fieldset", {}, el("legend", {}, "Assistant"), parts.name.node, parts.first_message.node, parts.voicemail_message.node),
    parts.model.node,
    parts.voice.node,
    parts.transcriber.node,
    el("fieldset", {}, el("legend", {}, "Call limits"), el("div", { class: "grid" }, parts.max_duration_seconds.node, parts.silence_timeout_seconds.node)),
    parts.analysis_plan.node,
    el("fieldset", {}, el("legend", {}, "Webhook"), parts.webhook_url.node, secret.node),
  );
  if (!editable) {
    for (const control of node.querySelectorAll("input, textarea")) control.readOnly = true;
    for (const control of node.querySelectorAll("select")) control.disabled = true;
  }

  function entries() {
    return [...Object.values(parts).flatMap((part) => (part.entries ? part.entries() : [part.entry])), ...secret.entries()];
  }

  function targets() {
    const found = new Map(secret.targets());
    for (const [name, part] of Object.entries(parts)) {
      for (const [path, entry] of part.targets ? part.targets() : [[name, part.entry]]) found.set(path, entry);
    }
    return found;
  }

  return {
    node,
    /** Show an assistant (null: a new one); `keepTyped` keeps a secret being typed. */
    show(assistant, { keepTyped = false } = {}) {
      const shown = assistant || {};
      for (const name of CONFIGURABLE) parts[name].show(shown[name]);
      secret.show(Boolean(shown.is_webhook_secret_set), { keepTyped });
    },
    /** What the form says: { configuration, secret, problems: [[entry, message]] }. */
    read() {
      const problems = [];
      const configuration = {};
      for (const name of CONFIGURABLE) configuration[name] = parts[name].read(problems);
      if (configuration.name === undefined) problems.unshift([parts.name.entry, "Name: every assistant has a name"]);
      return { configuration, secret: secret.read(), problems };
    },
    clearErrors() {
      for (const entry of entries()) setFieldError(entry, null);
    },
    /** The field an error message names, as [path, entry], or null when it names none here. */
    targetOf(message) {
      const named = NAMED.exec(message);
      if (!named) return null;
      const found = targets();
      let path = named[1];
      while (path) {
        if (found.has(path)) return [path, found.get(path)];
        const parent = path.replace(/(\.\w+|\[\d+\])$/, "");
        path = parent === path ? "" : parent;
      }
      return null;
    },
    focusFirst() {
      parts.name.entry.control.focus();
    },
  };
}
