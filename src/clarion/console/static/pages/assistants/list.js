// The organization's assistants (#/assistants, the console's home): name, first message and
// when each was changed (its version is on its own page); in an empty organization, what to
// do first.

import { api, button, can, el, emptyState, fill, go, heading, link, notice, session, statusArea, table, when } from "../../ui.js";
import { carried } from "./flash.js";

const LISTED = 100;

/** What to do first in an organization without assistants, in the words of the reader's role. */
function firstSteps() {
  if (!can("editor")) {
    const state = emptyState(
      "No assistants yet",
      `Your role is ${session.user.role}: you can read assistants and their calls, not create them. Ask an editor or owner of your organization to:`,
    );
    state.insertBefore(
      el(
        "ol",
        { class: "steps" },
        el("li", {}, "add a provider credential, so that calls can reach a language model;"),
        el("li", {}, "create the first assistant;"),
        el("li", {}, "try it in a test call."),
      ),
      state.querySelector(".actions"),
    );
    state.append(el("p", {}, "It will then be listed here, and its calls under ", link("calls", "Calls"), "."));
    return state;
  }
  const state = emptyState(
    "No assistants yet",
    "An assistant answers calls for your organization. To set up the first one:",
    button("New assistant", () => go("assistants/new"), { kind: "primary" }),
  );
  state.insertBefore(
    el(
      "ol",
      { class: "steps" },
      el("li", {}, link("credentials", "Add a provider credential"), ": the key of the language model (OpenAI, Anthropic or a compatible server) calls talk to."),
      el("li", {}, "Create an assistant with ", el("strong", {}, "New assistant"), ": its name, first message, model and system prompt."),
      el("li", {}, link("try", "Try it"), ": talk to it in a test call from this browser."),
    ),
    state.querySelector(".actions"),
  );
  return state;
}

/** Draw the list into `main` while `life.alive`. */
export async function listPage(main, life) {
  const status = statusArea();
  const head = heading("Assistants", can("editor") ? button("New assistant", () => go("assistants/new"), { kind: "primary" }) : null);
  let assistants;
  try {
    ({ body: assistants } = await api("GET", `/v1/assistant?limit=${LISTED}`));
  } catch (error) {
    if (life.alive) fill(main, head, notice(error.message, "error"));
    return;
  }
  if (!life.alive) return;
  const message = carried();
  if (message) fill(status, notice(message, "ok"));
  const columns = [
    { label: "Name", cell: (assistant) => link(`assistants/${assistant.id}`, assistant.name) },
    { label: "First message", cell: (assistant) => el("span", { class: "clip" }, assistant.first_message || "—") },
    { label: "Updated", cell: (assistant) => when(assistant.updated_at) },
  ];
  if (assistants.length === 0) {
    fill(main, el("div", { class: "page-head" }, el("h1", {}, "Assistants")), status, firstSteps());
    return;
  }
  fill(
    main,
    head,
    status,
    table("Assistants", columns, assistants, null),
    assistants.length === LISTED ? el("p", { class: "quiet" }, `The newest ${LISTED} are listed.`) : null,
  );
}
