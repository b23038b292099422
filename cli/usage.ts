/**
 * The `nina-smtp` command line: its usage text, argument parsing and the usage error.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Sub-commands of `nina-smtp`. */
export type CommandName = "send" | "verify" | "preview";

/** Parsed command line. */
export interface CliArgs {
  /** The sub-command, or `"help"` for `--help` / `help`. */
  command: CommandName | "help";
  /** `--credential`: path of the credential JSON. */
  credential?: string;
  /** `--node`: path of the node JSON (`{ resource, operation, parameters }`). */
  node?: string;
  /** `--input`: path of the input data JSON. */
  input?: string;
  /** `--extracted`: path of the extracted parameters JSON. */
  extracted?: string;
  /** `--ca`: path of a PEM file with extra trusted CA certificates. */
  ca?: string;
  /** `--out`: where `preview` writes the .eml. */
  out?: string;
  /** `--timeout`: overall deadline in milliseconds. */
  timeout?: number;
  /** `--json`: print one JSON document instead of human output. */
  json: boolean;
}

/** The help text. */
export const USAGE = `nina-smtp: send mail with the NINA SMTP integration

Usage:
  nina-smtp send    --credential cred.json --node node.json [--input input.json]
                    [--extracted extracted.json] [--ca ca.pem] [--timeout ms] [--json]
  nina-smtp verify  --credential cred.json [--ca ca.pem] [--timeout ms] [--json]
  nina-smtp preview --node node.json [--credential cred.json] [--input input.json]
                    [--extracted extracted.json] [--out message.eml] [--json]
  nina-smtp --help

Commands:
  send     Runs the node (resource "email", operation "send") and sends the message.
  verify   Connects, negotiates TLS and logs in with the credential, then reports the server.
  preview  Writes the composed message (.eml) without connecting; to stdout without --out.

Credential (cred.json, the NINA "SMTP" credential):
  { "host", "port", "encryption": "starttls"|"tls"|"none", "username", "password",
    "authMethod": "login"|"plain"|"oauth2", "accessToken" (for oauth2) }
  Environment variables fill the fields the file does not give, and without --credential
  they are the whole credential: SMTP_HOST, SMTP_PORT, SMTP_ENCRYPTION, SMTP_USERNAME,
  SMTP_PASSWORD, SMTP_AUTH_METHOD, SMTP_ACCESS_TOKEN. preview needs only the username (the
  default sender).

Parameters are merged per parameter: node > extracted > input.

Exit codes:
  0  success (a send may still list rejected recipients)
  1  internal error (a bug: please report it)
  2  bad input: usage, unreadable files, invalid credential, node or parameters
  3  authentication failed
  4  transient failure: trying again later may work (connection, timeout, 4xx replies)
  5  permanent failure: the server refused (sender, recipients, size, TLS, ...)
  6  indeterminate: the connection broke after the message was sent; it may have been delivered
`;

/** A command-line mistake; exit code 2. */
export class UsageError extends Error {
  /** Always `"EUSAGE"`. */
  readonly code = "EUSAGE";

  /** @param message what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }

  /** The JSON view printed with `--json`. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retryable: false };
  }
}

const OPTIONS = {
  credential: { type: "string" },
  node: { type: "string" },
  input: { type: "string" },
  extracted: { type: "string" },
  ca: { type: "string" },
  out: { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const ALLOWED: Record<CommandName, readonly string[]> = {
  send: ["credential", "node", "input", "extracted", "ca", "timeout", "json"],
  verify: ["credential", "ca", "timeout", "json"],
  preview: ["node", "credential", "input", "extracted", "out", "json"],
};

function isCommand(value: string | undefined): value is CommandName {
  return value === "send" || value === "verify" || value === "preview";
}

/** Parses `argv` (without the node and script paths); throws {@link UsageError}. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const json = values.json === true;
  if (values.help || positionals[0] === "help") return { command: "help", json };
  const [command, ...extra] = positionals;
  if (command === undefined) throw new UsageError("Missing command: send, verify or preview");
  if (!isCommand(command)) throw new UsageError(`Unknown command "${command}": use send, verify or preview`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument "${extra[0]}"`);
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined && key !== "json" && !ALLOWED[command].includes(key)) {
      throw new UsageError(`Option --${key} does not apply to "${command}"`);
    }
  }
  const args: CliArgs = { command, json };
  for (const key of ["credential", "node", "input", "extracted", "ca", "out"] as const) {
    const value = values[key];
    if (value === "") throw new UsageError(`Option --${key} needs a file path`);
    if (value !== undefined) args[key] = value;
  }
  if (values.timeout !== undefined) {
    const timeout = Number(values.timeout);
    if (!/^\d+$/.test(values.timeout) || timeout <= 0) {
      throw new UsageError("Option --timeout must be a positive number of milliseconds");
    }
    args.timeout = timeout;
  }
  if ((command === "send" || command === "preview") && args.node === undefined) {
    throw new UsageError(`"${command}" needs --node node.json`);
  }
  return args;
}
