/**
 * The conformance suite, written once and run unchanged inside Node, Bun, Deno and
 * workerd. Only Web APIs: fetch, WebCrypto, TextEncoder, timers, AbortController.
 *
 * @module
 */

import { authCases } from "./auth-cases.ts";
import type { Case } from "./context.ts";
import { dkimCases } from "./dkim-cases.ts";
import { smtpCases } from "./smtp-cases.ts";
import { socketCases } from "./socket-cases.ts";

export type { Case, ConformanceConfig, Ctx } from "./context.ts";
export { makeContext } from "./context.ts";

/**
 * Every case: socket level (the adapter alone), then SMTP level (the core over it), then
 * AUTH mechanisms and DKIM signing (WebCrypto) end to end.
 */
export const cases: Case[] = [...socketCases, ...smtpCases, ...authCases, ...dkimCases];
