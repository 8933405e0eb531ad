// An assistant's version records: the newest one (the Assistant itself carries no version
// number) and who made each.

import { api, can, session } from "../../ui.js";

/** The newest version record of assistant `id`. */
export async function newestVersion(id) {
  const { body } = await api("GET", `/v1/assistant/${encodeURIComponent(id)}/versions?limit=1`);
  return body[0];
}

/** The organization's console users by id, for an owner (who may list them); else empty. */
export async function userEmails() {
  if (!can("owner")) return new Map();
  try {
    const { body } = await api("GET", "/v1/user");
    return new Map(body.map((user) => [user.user_id, user.email]));
  } catch {
    return new Map();
  }
}

/** Who made a version: "you", a console user, or an API key. */
export function madeBy(record, emails = new Map()) {
  if (record.user_id !== null && record.user_id !== undefined) {
    if (session.user && record.user_id === session.user.user_id) return "you";
    return emails.get(record.user_id) || `console user #${record.user_id}`;
  }
  if (record.api_key_id !== null && record.api_key_id !== undefined) return `API key #${record.api_key_id}`;
  return "unknown";
}
