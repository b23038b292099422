/**
 * Loads {@link TransportEngine} and the composer on first use (see engine.ts for why),
 * once for the whole program (every transport shares the loaded module).
 *
 * @module
 */

import type { BuildOptions, BuiltMessage } from "./mime/build.ts";
import type { MailMessage } from "./message.ts";

type Engine = typeof import("./engine.ts");

let loading: Promise<Engine> | undefined;

/** The engine module; the same promise for every caller. */
export function loadEngine(): Promise<Engine> {
  // A failed load (a missing chunk in a broken install) is not cached, so a retry can succeed.
  loading ??= import("./engine.ts").catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

/**
 * Builds the exact bytes that `send()` would transmit for `message` (before
 * dot-stuffing): same validation, same structure, the DKIM-Signature field first when
 * `dkim` is given. Nothing is sent. The Message-ID, boundaries and (without `date`) the
 * Date differ from one call to the next.
 *
 * @example
 * ```ts
 * const built = await buildMessage({ from: "me@example.com", to: "ada@example.com", subject: "Hi", text: "Hello" });
 * console.log(built.size, await built.text());
 * ```
 *
 * @param message the message, as for `send()`
 * @param options `defaultFrom` (the sender when `from` is absent), `date`, `dkim`
 * @throws {SmtpValidationError} naming the bad field
 */
export async function buildMessage(message: MailMessage, options?: BuildOptions): Promise<BuiltMessage> {
  return (await loadEngine()).buildMessage(message, options);
}
