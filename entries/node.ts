/**
 * @nina/smtp for Node: the core and the NINA integration with the Node socket
 * adapter bound, so no connector needs to be passed.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp/node";
 *
 * const smtp = createTransport({ host: "smtp.example.com", auth: { username: "me@example.com", password: "app-password" } });
 * await smtp.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * await smtp.close();
 * ```
 *
 * @module
 */

import { nodeConnector } from "../adapters/node.ts";
import { bindConnector, type BoundApi } from "../src/bind.ts";

export * from "../src/mod.ts";
export * from "../src/integration/mod.ts";
export { nodeConnector };

const api: BoundApi = bindConnector(nodeConnector);

/** Creates a transport that uses the Node adapter. */
export const createTransport: BoundApi["createTransport"] = api.createTransport;
/** Runs an SMTP integration node with the Node adapter. */
export const executeSmtpNode: BoundApi["executeSmtpNode"] = api.executeSmtpNode;
/** Validates an SMTP credential with the Node adapter. */
export const validateCredential: BoundApi["validateCredential"] = api.validateCredential;
