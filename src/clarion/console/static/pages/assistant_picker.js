// The organization's assistants by id, for naming them in lists and choosing one in a select.

import { api, el } from "../ui.js";

const MOST = 1000; // the API's largest page

/** The organization's assistants, newest first: [{ id, name }]. */
export async function loadAssistants() {
  const { body } = await api("GET", `/v1/assistant?limit=${MOST}`);
  return body.map((assistant) => ({ id: assistant.id, name: assistant.name || `Assistant ${assistant.id}` }));
}

/** An assistant's name from `assistants` (from loadAssistants), or its id once it is gone. */
export function assistantName(assistants, id) {
  const found = assistants.find((assistant) => assistant.id === id);
  return found ? found.name : `Assistant ${id} (deleted)`;
}

/** A select of the assistants; `any` labels a first option meaning "all of them". */
export function assistantSelect(assistants, { any = null, name = "assistant_id" } = {}) {
  return el(
    "select",
    { name },
    any === null ? null : el("option", { value: "" }, any),
    assistants.map((assistant) => el("option", { value: String(assistant.id) }, assistant.name)),
  );
}
