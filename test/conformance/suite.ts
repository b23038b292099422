/**
 * The conformance suite, written once and run unchanged inside Node, Bun, Deno and
 * workerd. Only Web APIs: fetch, WebCrypto, TextEncoder, timers, AbortController.
 *
 * @module
 */

import type { Case } from "./context.ts";
import { socketCases } from "./socket-cases.ts";

export type { Case, ConformanceConfig, Ctx } from "./context.ts";
export { makeContext } from "./context.ts";

/** Every case, socket level first. */
export const cases: Case[] = [...socketCases];
