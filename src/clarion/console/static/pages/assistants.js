// The Assistants pages, the console's home: the list (#/assistants), one assistant's form
// (#/assistants/<id>, #/assistants/new) and its history (#/assistants/<id>/history).

import { el, fill, register } from "../ui.js";
import { editPage } from "./assistants/edit.js";
import { historyPage } from "./assistants/history.js";
import { listPage } from "./assistants/list.js";

register({
  path: "assistants",
  nav: "Assistants",
  role: "viewer",
  title: "Assistants",
  render(main, params) {
    // Drawn after requests answer: a page left meanwhile must not draw over the next one.
    const life = { alive: true };
    const [id, part] = params;
    fill(main, el("p", { class: "quiet" }, "Loading…"));
    if (id === undefined) listPage(main, life);
    else if (id === "new") editPage(main, null, life);
    else if (part === "history") historyPage(main, id, life);
    else editPage(main, id, life);
    return () => {
      life.alive = false;
    };
  },
});
