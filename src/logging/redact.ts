import { maskUrlPassword } from '../config/database-url';

/** Secrets shorter than this are not searched for in free text (they would mask ordinary words). */
const MIN_SECRET_LENGTH = 4;
const MASK = '***';

// Process-wide on purpose: a password is secret for every logger in the process, whichever database it belongs to.
const secrets = new Set<string>();

/** Marks a value (password, passphrase, private key) as one that must never appear in a log line. */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
  secrets.add(value);
  // Private keys also leak line by line, e.g. inside a parser error.
  if (value.includes('\n')) {
    for (const line of value.split('\n')) if (line.length >= 16 && !line.startsWith('-----')) secrets.add(line.trim());
  }
}

/** Masks URL passwords, `password=` pairs and every registered secret in `text`. */
export function redactText(text: string): string {
  let out = maskUrlPassword(text);
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

const SECRET_KEY = /pass(word|phrase)?|secret|private_?key|privatekey|token|credential/i;

/** Deep copy of a log payload with secrets masked; keys that name secrets are masked whatever their value. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[…]';
  if (value instanceof Error) return redactText(value.message);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && v !== undefined && v !== null ? MASK : redactValue(v, depth + 1);
  }
  return out;
}
