/**
 * The per-user Bayesian classifier: a token model each user trains by moving mail into Junk
 * (spam) or out of it (ham) — the `spam-learn` stage writes it, the `spam` stage reads it.
 * Tokens are words of the subject and body and the sender's domain; the score is Robinson's
 * f(w) per token combined with Fisher's chi-square method (as SpamBayes does).
 *
 * No verdict until the user has trained `MIN_DOCS` messages of each kind: a model that has
 * only seen spam rates every common word as spam.
 */

export interface TokenCounts {
  readonly spam: number;
  readonly ham: number;
}

export interface BayesCounts {
  readonly spamDocs: number;
  readonly hamDocs: number;
  /** Counts of the tokens asked for that the user's model has seen. */
  readonly tokens: ReadonlyMap<string, TokenCounts>;
}

export interface BayesStore {
  /**
   * Trains one message (`docKey`: its content id, the same across copies and moves) as spam or
   * ham. Idempotent: the same class again changes nothing (returns false); the other class
   * moves the message's tokens over.
   */
  learn(userId: string, docKey: string, tokens: readonly string[], spam: boolean): Promise<boolean>;
  counts(userId: string, tokens: readonly string[]): Promise<BayesCounts>;
  close(): Promise<void>;
}

export const MIN_DOCS = 5;
const MAX_TOKENS = 1500;
const MAX_CLUES = 150;
const MIN_STRENGTH = 0.1;

/** The distinct tokens of a message (order of first appearance, at most MAX_TOKENS). */
export function tokenize(subject: string, text: string, fromAddresses: readonly string[]): string[] {
  const out = new Set<string>();
  const words = (s: string): string[] => s.toLowerCase().match(/[\p{L}\p{N}$€£'_-]{3,24}/gu) ?? [];
  for (const w of words(subject)) out.add(`s:${w}`);
  for (const a of fromAddresses) {
    const at = a.lastIndexOf('@');
    if (at >= 0) out.add(`f:${a.slice(at + 1).toLowerCase()}`);
  }
  for (const w of words(text)) {
    if (out.size >= MAX_TOKENS) break;
    out.add(w);
  }
  return [...out];
}

/** P(chi-square ≥ x2) for `v` (even) degrees of freedom. */
function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

/** Spam probability 0..1, or null when the model is not trained enough to say. */
export function spamProbability(counts: BayesCounts, tokens: readonly string[]): number | null {
  if (counts.spamDocs < MIN_DOCS || counts.hamDocs < MIN_DOCS) return null;
  const clues: number[] = [];
  for (const t of tokens) {
    const c = counts.tokens.get(t);
    if (!c) continue;
    const sp = c.spam / counts.spamDocs;
    const hp = c.ham / counts.hamDocs;
    if (sp + hp === 0) continue;
    const n = c.spam + c.ham;
    // Robinson's f(w): the token's spamminess, pulled towards 0.5 while it is rare (s = 1, x = 0.5).
    const f = (0.5 + n * (sp / (sp + hp))) / (1 + n);
    if (Math.abs(f - 0.5) >= MIN_STRENGTH) clues.push(Math.min(Math.max(f, 0.01), 0.99));
  }
  if (clues.length === 0) return 0.5;
  clues.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
  const used = clues.slice(0, MAX_CLUES);
  const lnSpam = used.reduce((s, f) => s + Math.log(1 - f), 0);
  const lnHam = used.reduce((s, f) => s + Math.log(f), 0);
  const S = 1 - chi2Q(-2 * lnSpam, 2 * used.length);
  const H = 1 - chi2Q(-2 * lnHam, 2 * used.length);
  return (S - H + 1) / 2;
}
