/**
 * The conformance suite, written once and run unchanged inside Node, Bun, Deno and
 * workerd. Only Web APIs: fetch, WebCrypto, TextEncoder, timers, AbortController.
 *
 * @module
 */

import type { Case } from "./context.ts";
import { smtpCases } from "./smtp-cases.ts";
import { socketCases } from "./socket-cases.ts";

export type { Case, ConformanceConfig, Ctx } from "./context.ts";
export { makeContext } from "./context.ts";

/** Every case: socket level (the adapter alone), then SMTP level (the core over it). */
export const cases: Case[] = [...socketCases, ...smtpCases];
