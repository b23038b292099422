/**
 * @nina/smtp for Bun: the core and the NINA integration with the Bun socket
 * adapter bound, so no connector needs to be passed.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp/bun";
 *
 * const smtp = createTransport({ host: "smtp.example.com", auth: { username: "me@example.com", password: "app-password" } });
 * await smtp.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * await smtp.close();
 * ```
 *
 * @module
 */

import { bunConnector } from "../adapters/bun.ts";
import { bindConnector, type BoundApi } from "../src/bind.ts";

export * from "../src/mod.ts";
export * from "../src/integration/mod.ts";
export { bunConnector };

const api: BoundApi = bindConnector(bunConnector);

/** Creates a transport that uses the Bun adapter. */
export const createTransport: BoundApi["createTransport"] = api.createTransport;
/** Runs an SMTP integration node with the Bun adapter. */
export const executeSmtpNode: BoundApi["executeSmtpNode"] = api.executeSmtpNode;
/** Validates an SMTP credential with the Bun adapter. */
export const validateCredential: BoundApi["validateCredential"] = api.validateCredential;
