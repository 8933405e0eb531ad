// An assistant's fields named in words, as the form, the history and the diffs show them,
// in the order the form shows them.

/** The fields a create, update or restore sets (the API's field table), in the form's order. */
export const CONFIGURABLE = [
  "name",
  "first_message",
  "voicemail_message",
  "model",
  "voice",
  "transcriber",
  "max_duration_seconds",
  "silence_timeout_seconds",
  "analysis_plan",
  "webhook_url",
];

/** The fields that are JSON objects, kept as sent apart from the keys below. */
export const DOCUMENTS = new Set(["model", "voice", "transcriber", "analysis_plan"]);

const FIELD_WORDS = {
  name: "Name",
  first_message: "First message",
  voicemail_message: "Voicemail message",
  model: "Language model",
  voice: "Voice",
  transcriber: "Transcriber",
  max_duration_seconds: "Maximum duration (seconds)",
  silence_timeout_seconds: "Silence timeout (seconds)",
  analysis_plan: "Analysis plan",
  webhook_url: "Webhook URL",
  webhook_secret: "Webhook secret",
  is_webhook_secret_set: "Webhook secret",
};

/** The keys of each document that clarion reads, named in words, in the form's order. */
export const DOCUMENT_KEYS = {
  model: {
    provider: "Provider",
    model: "Model",
    temperature: "Temperature",
    max_tokens: "Max tokens",
    credential_id: "Credential id",
    messages: "Messages",
  },
  voice: { provider: "Provider", voiceId: "Voice id", model: "Model", credential_id: "Credential id" },
  transcriber: { provider: "Provider", model: "Model", language: "Language", credential_id: "Credential id" },
  analysis_plan: {
    summaryPrompt: "Summary prompt",
    structuredDataPrompt: "Structured data prompt",
    structuredDataSchema: "Structured data schema",
    successEvaluationPrompt: "Success evaluation prompt",
    successEvaluationRubric: "Success evaluation rubric",
  },
};

/** A field's name in words ("first_message" → "First message"). */
export function fieldWords(name) {
  return FIELD_WORDS[name] || name;
}

/** A document key's path in words ("model.temperature" → "Language model · Temperature"). */
export function pathWords(path) {
  const [field, ...rest] = path.split(".");
  if (rest.length === 0) return fieldWords(field);
  const key = rest.join(".");
  const known = DOCUMENT_KEYS[field] && DOCUMENT_KEYS[field][key];
  return `${fieldWords(field)} · ${known || key}`;
}
