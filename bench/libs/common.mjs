// What every library adapter shares: the sink's account and the neutral message shape.
//
// A neutral message: { from, to: string[], subject, text, attachments?: [{ filename,
// contentType, base64 }] }. Each adapter turns it into its library's own form inside the
// timed region, because that is part of using the library.

export const USER = "bench";
export const PASS = "bench-pass";
export const HOST = "127.0.0.1";

/** Throws unless every one of `results` is true-ish; `what` names the library call. */
export function assertAll(results, what) {
  const bad = results.findIndex((r) => !r);
  if (bad !== -1) throw new Error(`${what}: message ${bad} was not accepted`);
}
