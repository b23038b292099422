/**
 * @nina/smtp on JSR: JSR has no export conditions, so this entry picks the runtime's
 * adapter on first connect, loading only that adapter's module.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp";
 *
 * const smtp = createTransport({ host: "smtp.example.com", auth: { username: "me@example.com", password: "app-password" } });
 * await smtp.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * await smtp.close();
 * ```
 *
 * @module
 */

import { bindConnector, type BoundApi } from "../src/bind.ts";
import type { ConnectParams, Connector, SmtpSocket } from "../src/socket.ts";

export * from "../src/mod.ts";
export * from "../src/integration/mod.ts";

interface RuntimeGlobals {
  Deno?: unknown;
  Bun?: unknown;
  navigator?: { userAgent?: string };
}

let chosen: Promise<Connector> | undefined;

/** Loads the adapter for the runtime this code runs in. */
function loadConnector(): Promise<Connector> {
  const g = globalThis as RuntimeGlobals;
  if (g.Deno) return import("../adapters/deno.ts").then((m) => m.denoConnector);
  if (g.Bun) return import("../adapters/bun.ts").then((m) => m.bunConnector);
  if (g.navigator?.userAgent === "Cloudflare-Workers") return import("../adapters/cloudflare.ts").then((m) => m.cloudflareConnector);
  return import("../adapters/node.ts").then((m) => m.nodeConnector);
}

/** A connector that delegates to the current runtime's adapter. */
export const autoConnector: Connector = {
  name: "auto",
  // The adapter chosen at connect time enforces its own limits (Workers refuse a per-socket CA).
  capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
  async connect(params: ConnectParams): Promise<SmtpSocket> {
    chosen ??= loadConnector();
    return (await chosen).connect(params);
  },
};

const api: BoundApi = bindConnector(autoConnector);

/** Creates a transport that uses the current runtime's adapter. */
export const createTransport: BoundApi["createTransport"] = api.createTransport;
/** Runs an SMTP integration node with the current runtime's adapter. */
export const executeSmtpNode: BoundApi["executeSmtpNode"] = api.executeSmtpNode;
/** Validates an SMTP credential with the current runtime's adapter. */
export const validateCredential: BoundApi["validateCredential"] = api.validateCredential;
