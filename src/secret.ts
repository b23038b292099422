/**
 * A wrapper that keeps a password or token out of logs, JSON and inspected objects.
 *
 * @module
 */

const REDACTED = "[redacted]";

/** Holds a secret string; only {@link Secret.reveal} gives it back. */
export class Secret {
  // A private field: not enumerable, not shown by util.inspect, not serialised.
  readonly #value: string;

  /** @param value the secret */
  constructor(value: string) {
    this.#value = value;
    // Node's util.inspect hook, set here because a computed name would need a declared type.
    Object.defineProperty(this, Symbol.for("nodejs.util.inspect.custom"), { value: () => REDACTED });
  }

  /** The secret itself, for the one place that must send it. */
  reveal(): string {
    return this.#value;
  }

  /** Always `"[redacted]"`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `"[redacted]"`. */
  toJSON(): string {
    return REDACTED;
  }
}
