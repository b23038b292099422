/**
 * Safe reading of workflow data: only own properties of plain objects count, so a
 * `__proto__` key from JSON input, or a polluted prototype, can never add a parameter.
 *
 * @module
 */

/** True for `{}`-style objects (prototype Object.prototype or null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The value of an own property, or undefined (never an inherited one). */
export function ownValue(source: unknown, key: string): unknown {
  if (!isPlainObject(source) || !Object.prototype.hasOwnProperty.call(source, key)) return undefined;
  return source[key];
}
