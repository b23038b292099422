/**
 * The three sub-commands of `nina-smtp`. Each returns what to print; errors propagate
 * to {@link runCli}, which prints them and picks the exit code.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import {
  buildMessage,
  checkOperation,
  executeSmtpNode,
  mergeParameters,
  messageFromParameters,
  parseCredential,
  prepareSend,
  validateCredential,
  type SmtpNodeContext,
} from "../entries/node.ts";
import { loadCredential, readJsonFile, readPemFile } from "./inputs.ts";
import { formatReport, formatSendResult } from "./output.ts";
import { UsageError, type CliArgs } from "./usage.ts";

/** The process environment, as the commands read it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a command produced: the JSON document, and the human text (string or bytes). */
export interface CommandOutput {
  /** Printed with `--json`. */
  json: unknown;
  /** Printed otherwise. */
  human: string | Uint8Array;
}

function requireCredential(args: CliArgs, env: Env): unknown {
  const credential = loadCredential(args.credential, env);
  if (credential === undefined) {
    throw new UsageError("No credential: give --credential cred.json or set SMTP_HOST, SMTP_USERNAME and SMTP_PASSWORD (or SMTP_ACCESS_TOKEN)");
  }
  return credential;
}

function context(args: CliArgs, credential: unknown): SmtpNodeContext {
  const ctx: SmtpNodeContext = { credential };
  if (args.extracted !== undefined) {
    ctx.extractedParameters = readJsonFile(args.extracted, "extracted parameters") as Record<string, unknown>;
  }
  if (args.input !== undefined) ctx.inputData = readJsonFile(args.input, "input data") as Record<string, unknown>;
  return ctx;
}

function runtime(args: CliArgs): { ca?: string; timeout?: number } {
  return {
    ...(args.ca !== undefined ? { ca: readPemFile(args.ca) } : {}),
    ...(args.timeout !== undefined ? { timeout: args.timeout } : {}),
  };
}

/** `send`: runs the node and sends the message. */
export async function sendCommand(args: CliArgs, env: Env): Promise<CommandOutput> {
  const credential = requireCredential(args, env);
  const node = readJsonFile(args.node as string, "node");
  const ctx = context(args, credential);
  const result = await executeSmtpNode(node, ctx, runtime(args));
  return { json: result, human: formatSendResult(result) };
}

/** `verify`: validates the credential against its server. */
export async function verifyCommand(args: CliArgs, env: Env): Promise<CommandOutput> {
  const credential = requireCredential(args, env);
  const { credential: resolved } = parseCredential(credential);
  const report = await validateCredential(credential, runtime(args));
  return { json: { ...report, username: resolved.username }, human: formatReport(report, resolved.username) };
}

/**
 * `preview`: builds the exact bytes `send` would transmit (with {@link buildMessage}),
 * without connecting. With `--credential` the credential is checked in full; without it
 * only `SMTP_USERNAME` is read (the default sender).
 */
export async function previewCommand(args: CliArgs, env: Env): Promise<CommandOutput> {
  const node = readJsonFile(args.node as string, "node");
  let message;
  let username: string | undefined;
  if (args.credential !== undefined) {
    const ctx = context(args, loadCredential(args.credential, env));
    const prepared = prepareSend(node, ctx);
    message = prepared.message;
    username = prepared.transport.auth?.username;
  } else {
    const checked = checkOperation(node) as unknown as Record<string, unknown>;
    const ctx = context(args, undefined);
    const parameters = Object.hasOwn(checked, "parameters") ? checked.parameters : undefined;
    message = messageFromParameters(mergeParameters(parameters, ctx.extractedParameters, ctx.inputData).values);
    username = env.SMTP_USERNAME || undefined;
  }
  const composed = await buildMessage(message, username !== undefined ? { defaultFrom: username } : {});
  const eml = await composed.bytes();
  const summary = { messageId: composed.messageId, envelope: composed.envelope, size: composed.size };
  if (args.out === undefined) {
    return { json: { ...summary, eml: new TextDecoder().decode(eml) }, human: eml };
  }
  try {
    writeFileSync(args.out, eml);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`Cannot write ${JSON.stringify(args.out)}${code ? ` (${code})` : ""}`);
  }
  const human =
    `Wrote ${args.out} (${eml.byteLength} bytes, not sent)\n` +
    `  message-id: ${composed.messageId}\n` +
    `  envelope:   from ${composed.envelope.from || "(none)"} to ${composed.envelope.to.join(", ")}\n`;
  return { json: { ...summary, out: args.out }, human };
}
