/**
 * {@link runCli}: parses the command line, runs the sub-command, prints the result or
 * the error, and returns the exit code.
 *
 * @module
 */

import { previewCommand, sendCommand, verifyCommand, type CommandOutput, type Env } from "./commands.ts";
import { errorJson, EXIT, exitCodeFor, formatError } from "./output.ts";
import { parseCliArgs, USAGE, type CliArgs } from "./usage.ts";

/** Where the CLI writes. */
export interface CliIo {
  /** Environment variables (the `SMTP_*` credential fields). */
  env: Env;
  /** Standard output. */
  stdout: { write(chunk: string | Uint8Array): unknown };
  /** Standard error. */
  stderr: { write(chunk: string | Uint8Array): unknown };
}

function run(args: CliArgs, env: Env): CommandOutput | Promise<CommandOutput> {
  switch (args.command) {
    case "send":
      return sendCommand(args, env);
    case "verify":
      return verifyCommand(args, env);
    case "preview":
      return previewCommand(args, env);
    default:
      return { json: { usage: USAGE }, human: USAGE };
  }
}

/** Runs `nina-smtp` with `argv` (without the node and script paths); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // --json is honoured even when the rest of the command line is wrong.
  const json = argv.includes("--json");
  try {
    const args = parseCliArgs(argv);
    const output = await run(args, io.env);
    if (args.json) io.stdout.write(`${JSON.stringify(output.json, null, 2)}\n`);
    else io.stdout.write(output.human);
    return EXIT.ok;
  } catch (error) {
    if (json) io.stdout.write(`${JSON.stringify(errorJson(error), null, 2)}\n`);
    else io.stderr.write(formatError(error));
    return exitCodeFor(error);
  }
}
