// The JSON parts of an assistant (`model`, `voice`, `transcriber`, `analysis_plan`) as groups
// of fields, one for each key clarion reads; the keys it does not read are shown as they are
// under "Other settings" and saved back unchanged.

import { el } from "../../ui.js";
import { choicePart, jsonPart, numberPart, textPart } from "./parts.js";
import { messagesPart } from "./messages.js";
import { isObject } from "./merge.js";
import { DOCUMENT_KEYS, fieldWords } from "./words.js";

const RUBRICS = [
  "NumericScale",
  "DescriptiveScale",
  "Checklist",
  "Matrix",
  "PercentageScale",
  "LikertScale",
  "AutomaticRubric",
  "PassFail",
];
const CREDENTIAL_HINT = "Leave empty to use the organization's credential for the provider.";

/** The parts in order, each run of short ones side by side, the texts at full width. */
function laidOut(parts) {
  const nodes = [];
  for (const part of parts) {
    const last = nodes[nodes.length - 1];
    if (part.wide) nodes.push(part.node);
    else if (last && last.classList.contains("grid")) last.append(part.node);
    else nodes.push(el("div", { class: "grid" }, part.node));
  }
  return nodes;
}

/** A fieldset for the document `name`: `parts` maps each key clarion reads to its control. */
function documentPart(name, parts, hint) {
  const words = DOCUMENT_KEYS[name];
  const error = el("p", { class: "field-error", role: "alert" });
  const other = el("div", { class: "other-settings" });
  const node = el(
    "fieldset",
    {},
    el("legend", {}, fieldWords(name)),
    hint ? el("p", { class: "hint" }, hint) : null,
    error,
    laidOut(Object.keys(words).map((key) => parts[key])),
    other,
  );
  const group = { control: node, error };
  let showing;
  let others = {};

  return {
    node,
    show(document) {
      showing = document;
      const shown = isObject(document) ? document : {};
      for (const key of Object.keys(words)) parts[key].show(shown[key]);
      others = Object.fromEntries(Object.entries(shown).filter(([key]) => !(key in words)));
      other.replaceChildren();
      if (Object.keys(others).length > 0) {
        other.append(
          el("h3", {}, "Other settings"),
          el("p", { class: "hint" }, "Kept as they are when you save; the API changes them."),
          el("pre", {}, JSON.stringify(others, null, 2)),
        );
      }
    },
    read(problems) {
      const document = { ...others };
      for (const key of Object.keys(words)) {
        const value = parts[key].read(problems);
        if (value !== undefined) document[key] = value;
      }
      if (Object.keys(document).length > 0) return document;
      // Every field emptied takes the part away; an empty object shown stays as it was.
      return isObject(showing) && Object.keys(showing).length === 0 ? showing : undefined;
    },
    targets() {
      const found = [[name, group]];
      for (const key of Object.keys(words)) {
        const part = parts[key];
        found.push(...(part.targets ? part.targets(`${name}.${key}`) : [[`${name}.${key}`, part.entry]]));
      }
      return found;
    },
    entries() {
      return [group, ...Object.values(parts).flatMap((part) => (part.entries ? part.entries() : [part.entry]))];
    },
  };
}

/** `model`: which language model answers, how, and what it is told first. */
export function modelPart({ editable }) {
  return documentPart(
    "model",
    {
      provider: choicePart("Provider", [["openai", "OpenAI or compatible"], ["anthropic", "Anthropic"]]),
      model: textPart("Model", { hint: "The provider's name for it, e.g. gpt-4o." }),
      temperature: numberPart("Temperature", { hint: "From 0 (steady) to 2 (inventive); Anthropic takes up to 1." }),
      max_tokens: numberPart("Max tokens", { integer: true, hint: "The longest reply, in tokens." }),
      credential_id: numberPart("Credential id", { integer: true, hint: CREDENTIAL_HINT }),
      messages: messagesPart({ editable }),
    },
    "Who answers the caller. Calls need a provider and a model.",
  );
}

/** `voice`: who speaks the assistant's replies. */
export function voicePart() {
  return documentPart(
    "voice",
    {
      provider: choicePart("Provider", [["11labs", "ElevenLabs (11labs)"], ["openai", "OpenAI"], ["espeak", "espeak (offline)"]]),
      voiceId: textPart("Voice id", { hint: "The provider's voice; ElevenLabs needs one." }),
      model: textPart("Model"),
      credential_id: numberPart("Credential id", { integer: true, hint: CREDENTIAL_HINT }),
    },
    "Without a provider, espeak speaks.",
  );
}

/** `transcriber`: who hears the caller, and in which language. */
export function transcriberPart() {
  return documentPart(
    "transcriber",
    {
      provider: choicePart("Provider", [["deepgram", "Deepgram"], ["openai", "OpenAI"], ["local", "Local (offline, English)"]]),
      model: textPart("Model", { hint: "e.g. nova-2." }),
      language: textPart("Language", { hint: "A language tag, e.g. en-US." }),
      credential_id: numberPart("Credential id", { integer: true, hint: CREDENTIAL_HINT }),
    },
    "Without a provider, the local transcriber hears the caller.",
  );
}

/** `analysis_plan`: what is worked out from each call once it has ended. */
export function analysisPart() {
  return documentPart(
    "analysis_plan",
    {
      summaryPrompt: textPart("Summary prompt", { multiline: true }),
      structuredDataPrompt: textPart("Structured data prompt", { multiline: true }),
      structuredDataSchema: jsonPart("Structured data schema", {
        hint: 'A JSON Schema for the data taken from the call, e.g. { "type": "object", "properties": { ... } }.',
      }),
      successEvaluationPrompt: textPart("Success evaluation prompt", { multiline: true }),
      successEvaluationRubric: choicePart("Success evaluation rubric", RUBRICS.map((rubric) => [rubric, rubric])),
    },
    "What is worked out from each call after it ends: its summary, data and success.",
  );
}
