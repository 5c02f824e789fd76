// Pure checks of the generative-AI elements (no DOM), tested with node --test. The kernel checks
// the same rules on the stored answer (nblabel.tasks.templating.check_crowd_answer).

/**
 * What is wrong with one ranking dimension, or "": `rankings[i]` is response i's rank, 1-based;
 * every response is ranked 1..n; two responses share a rank only when `allowTie`.
 */
export function rankingProblem(name, rankings, n, allowTie) {
  if (rankings.length !== n || rankings.some((r) => !Number.isInteger(r) || r < 1 || r > n)) {
    return `Rank every response from 1 to ${n} for “${name}”.`;
  }
  if (!allowTie && new Set(rankings).size !== n) return `“${name}” allows no ties: give each response its own rank.`;
  return "";
}

/** The words of a text (runs of non-space). */
export function wordCount(text) {
  return String(text).trim().split(/\s+/).filter(Boolean).length;
}

/**
 * What is wrong with a question/answer list, or "": the count within [minQuestions, maxQuestions]
 * and each question's and answer's words within their bounds (`limits` holds the element's numbers).
 */
export function qaProblem(pairs, limits) {
  const { minQuestions = 0, maxQuestions = Infinity } = limits;
  if (pairs.length < minQuestions) return `Write at least ${minQuestions} question${minQuestions === 1 ? "" : "s"}.`;
  if (pairs.length > maxQuestions) return `Write at most ${maxQuestions} questions.`;
  for (const [i, pair] of pairs.entries()) {
    for (const part of ["question", "answer"]) {
      const words = wordCount(pair[part]);
      const min = limits[`${part}MinWords`] ?? 1;
      const max = limits[`${part}MaxWords`] ?? Infinity;
      if (words < min || words > max) {
        const range = max === Infinity ? `at least ${min}` : `${min} to ${max}`;
        return `${part[0].toUpperCase()}${part.slice(1)} ${i + 1} has ${words} words: write ${range}.`;
      }
    }
  }
  return "";
}
