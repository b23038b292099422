/**
 * @nina/smtp for Cloudflare Workers: the core and the NINA integration with the Cloudflare Workers socket
 * adapter bound, so no connector needs to be passed.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp/cloudflare";
 *
 * const smtp = createTransport({ host: "smtp.example.com", auth: { username: "me@example.com", password: "app-password" } });
 * await smtp.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * await smtp.close();
 * ```
 *
 * @module
 */

import { cloudflareConnector } from "../adapters/cloudflare.ts";
import { bindConnector, type BoundApi } from "../src/bind.ts";

export * from "../src/mod.ts";
export * from "../src/integration/mod.ts";
export { cloudflareConnector };

const api: BoundApi = bindConnector(cloudflareConnector);

/** Creates a transport that uses the Cloudflare Workers adapter. */
export const createTransport: BoundApi["createTransport"] = api.createTransport;
/** Runs an SMTP integration node with the Cloudflare Workers adapter. */
export const executeSmtpNode: BoundApi["executeSmtpNode"] = api.executeSmtpNode;
/** Validates an SMTP credential with the Cloudflare Workers adapter. */
export const validateCredential: BoundApi["validateCredential"] = api.validateCredential;
