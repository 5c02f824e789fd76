// Pure pieces of the form output (no DOM), tested with node --test.

/**
 * Fold [name, value] entries into one answer. Object values under the same name merge (the
 * checkboxes sharing a name give `{"name": {"blurry": true, "dim": false}}`, as GT documents);
 * any other value replaces an earlier one.
 */
export function mergeEntries(entries) {
  const answer = {};
  for (const [name, value] of entries) {
    const before = answer[name];
    const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
    answer[name] = isObject(before) && isObject(value) ? { ...before, ...value } : value;
  }
  return answer;
}

