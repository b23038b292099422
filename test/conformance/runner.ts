/**
 * Runs the conformance cases one after another, each bounded by a timeout, and reports
 * every result as one JSON object (the runtime entries print them as JSON lines).
 *
 * @module
 */

import { describeError } from "./assert.ts";
import type { Case, Ctx } from "./context.ts";

/** Default bound of one case. */
export const DEFAULT_CASE_TIMEOUT_MS = 10_000;

/** The plan, printed first so the Node side can bound the run. */
export interface PlanLine {
  type: "plan";
  runtime: string;
  cases: Array<{ name: string; timeoutMs: number }>;
}

/** One case's outcome. */
export interface ResultLine {
  type: "result";
  runtime: string;
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
  notes?: string[];
}

/** The cases that apply to a runtime, after the `only` filter. */
export function selectCases(cases: Case[], ctx: Ctx): Case[] {
  const only = ctx.config.only;
  return cases.filter(
    (c) =>
      (!c.runtimes || c.runtimes.includes(ctx.runtime)) &&
      (!only || only.length === 0 || only.some((o) => c.name.includes(o))),
  );
}

/** The plan line for a selection. */
export function plan(cases: Case[], ctx: Ctx): PlanLine {
  return {
    type: "plan",
    runtime: ctx.runtime,
    cases: cases.map((c) => ({ name: c.name, timeoutMs: c.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS })),
  };
}

/** Runs one case under its timeout. Never throws. */
export async function runCase(c: Case, ctx: Ctx): Promise<ResultLine> {
  const started = Date.now();
  const timeoutMs = c.timeoutMs ?? DEFAULT_CASE_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.notes.length = 0;
  const withNotes = <T extends ResultLine>(r: T): T => (ctx.notes.length ? { ...r, notes: [...ctx.notes] } : r);
  try {
    await Promise.race([
      c.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`case timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return withNotes({ type: "result", runtime: ctx.runtime, name: c.name, ok: true, ms: Date.now() - started });
  } catch (err) {
    return withNotes({
      type: "result",
      runtime: ctx.runtime,
      name: c.name,
      ok: false,
      ms: Date.now() - started,
      error: describeError(err),
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every selected case in order, emitting the plan and each result. */
export async function runAll(cases: Case[], ctx: Ctx, emit: (line: PlanLine | ResultLine) => void): Promise<void> {
  const selected = selectCases(cases, ctx);
  emit(plan(selected, ctx));
  for (const c of selected) emit(await runCase(c, ctx));
}
