// Comparing and merging assistant configurations (JSON values): what an edit changed, and
// the same edit made again on top of a colleague's newer version (RFC 7396 merge patches).

/** Whether a value is a JSON object (not null, not an array). */
export function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Whether two JSON values are equal, whatever the order of their objects' keys. */
export function same(a, b) {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => same(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && same(a[key], b[key]));
  }
  return false;
}

/** The merge patch that turns `before` into `after` (objects key by key, the rest whole). */
export function mergePatch(before, after) {
  if (!isObject(before) || !isObject(after)) return after === undefined ? null : after;
  const patch = {};
  for (const key of Object.keys(before)) if (!(key in after)) patch[key] = null;
  for (const [key, value] of Object.entries(after)) {
    if (!same(before[key], value)) patch[key] = key in before ? mergePatch(before[key], value) : value;
  }
  return patch;
}

/** `target` with a merge patch applied; neither is changed. */
export function applyMergePatch(target, patch) {
  if (!isObject(patch)) return patch === null ? undefined : patch;
  const result = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * The edits from `before` to `mine`, made on top of `theirs` instead: per field, theirs where
 * this edit left the field alone, and within an object field, their keys beside the edited ones.
 */
export function rebase(fields, before, mine, theirs) {
  const rebased = {};
  for (const name of fields) {
    if (same(before[name], mine[name])) rebased[name] = theirs[name];
    else if (isObject(before[name]) && isObject(mine[name]) && isObject(theirs[name])) {
      rebased[name] = applyMergePatch(theirs[name], mergePatch(before[name], mine[name]));
    } else rebased[name] = mine[name];
  }
  return rebased;
}
