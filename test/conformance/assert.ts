/**
 * A tiny assertion helper for the conformance suite: Web APIs only, so the same module
 * runs in Node, Bun, Deno and workerd.
 *
 * @module
 */

/** A failed check. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AssertionError";
  }
}

/** Throws unless `condition` is truthy. */
export function ok(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Throws unless `actual === expected`. */
export function equal<T>(actual: T, expected: T, message: string): void {
  if (actual !== expected) {
    throw new AssertionError(`${message}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Throws unless `value` is one of `allowed`. */
export function oneOf<T>(value: T, allowed: readonly T[], message: string): void {
  if (!allowed.includes(value)) {
    throw new AssertionError(`${message}: expected one of ${allowed.map(show).join(", ")}, got ${show(value)}`);
  }
}

/** Awaits `work`, which must reject; returns the rejection reason. */
export async function rejects(work: Promise<unknown> | (() => Promise<unknown>), message: string): Promise<unknown> {
  try {
    const value = await (typeof work === "function" ? work() : work);
    throw new AssertionError(`${message}: expected a rejection, got ${show(value)}`);
  } catch (err) {
    if (err instanceof AssertionError) throw err;
    return err;
  }
}

/** Short JSON-ish rendering of a value for messages. */
export function show(value: unknown): string {
  if (value instanceof Error) return describeError(value);
  if (value instanceof Uint8Array) return `Uint8Array(${value.byteLength})`;
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return String(value);
    return text.length > 300 ? `${text.slice(0, 300)}…` : text;
  } catch {
    return String(value);
  }
}

/** One-line description of an error: name, kind or code, message, and the cause's. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return `non-error ${typeof err}: ${String(err)}`;
  const e = err as Error & { kind?: unknown; code?: unknown; phase?: unknown };
  const tags = [e.kind, e.code, e.phase].filter((t) => t !== undefined).map(String);
  let text = `${e.name}${tags.length ? `[${tags.join(",")}]` : ""}: ${e.message}`;
  if (e.cause !== undefined && e.cause !== err) {
    text += ` <- ${e.cause instanceof Error ? describeError(e.cause) : String(e.cause)}`;
  }
  return text.length > 1000 ? `${text.slice(0, 1000)}…` : text;
}
