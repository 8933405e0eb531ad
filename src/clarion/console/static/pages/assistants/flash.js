// A message carried to the next page drawn: "Deleted" said on the list the page goes to.

let waiting = null;

/** Keep `text` for the next page to show. */
export function carry(text) {
  waiting = text;
}

/** The message carried here, once. */
export function carried() {
  const text = waiting;
  waiting = null;
  return text;
}
