/**
 * What the CLI prints: results and reports for people, errors with code and hint, and
 * the exit code for each kind of failure. Nothing here ever sees the password.
 *
 * @module
 */

import {
  SmtpAuthError,
  SmtpEnvelopeError,
  SmtpError,
  SmtpIndeterminateError,
  SmtpValidationError,
  type CredentialReport,
  type RecipientRejection,
  type SmtpSendResult,
} from "../entries/node.ts";
import { UsageError } from "./usage.ts";

/** Exit codes of `nina-smtp` (see the usage text). */
export const EXIT: Readonly<{
  ok: 0; internal: 1; badInput: 2; auth: 3; transient: 4; permanent: 5; indeterminate: 6;
}> = Object.freeze({
  ok: 0,
  internal: 1,
  badInput: 2,
  auth: 3,
  transient: 4,
  permanent: 5,
  indeterminate: 6,
} as const);

/**
 * The exit code for an error: bad input 2, indeterminate 6, a retryable failure 4
 * (a 4xx reply to AUTH included: trying later may work), authentication 3, any other
 * classified failure 5, anything unclassified 1.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof SmtpValidationError) return EXIT.badInput;
  if (error instanceof SmtpIndeterminateError) return EXIT.indeterminate;
  if (error instanceof SmtpError) {
    if (error.retryable) return EXIT.transient;
    if (error instanceof SmtpAuthError) return EXIT.auth;
    return EXIT.permanent;
  }
  return EXIT.internal;
}

/** The `--json` document for an error. */
export function errorJson(error: unknown): { error: Record<string, unknown> } {
  if (error instanceof SmtpError || error instanceof UsageError) return { error: error.toJSON() };
  return { error: { name: "Error", code: "EINTERNAL", message: error instanceof Error ? error.message : String(error) } };
}

function rejection(r: RecipientRejection): string {
  const codes = [r.code, r.enhancedCode].filter((c) => c !== undefined).join(" ");
  return `${r.address}: ${codes} ${r.message.replace(/\n/g, " ")} (${r.retryable ? "temporary" : "permanent"})`;
}

/** Human text for an error: message, code, hint and the server's reply. */
export function formatError(error: unknown): string {
  if (error instanceof UsageError) return `Error: ${error.message}\nRun "nina-smtp --help" for usage.\n`;
  if (!(error instanceof SmtpError)) {
    return `Internal error: ${error instanceof Error ? error.message : String(error)}\n`;
  }
  const lines = [`Error: ${error.message}`, `  code:      ${error.code} (${error.retryable ? "temporary: retrying later may work" : "permanent"})`];
  if (error.hint) lines.push(`  hint:      ${error.hint}`);
  if (error.replyCode !== undefined) {
    const codes = [error.replyCode, error.enhancedCode].filter((c) => c !== undefined).join(" ");
    lines.push(`  server:    ${codes} ${(error.serverMessage ?? "").replace(/\n/g, " ")}`.trimEnd());
  }
  if (error.command) lines.push(`  command:   ${error.command}`);
  if (error instanceof SmtpEnvelopeError) {
    for (const r of error.rejected) lines.push(`  rejected:  ${rejection(r)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Human text for a send result. */
export function formatSendResult(result: SmtpSendResult): string {
  const lines = [
    `Sent ${result.messageId}`,
    `  from:      ${result.envelope.from}`,
    `  accepted:  ${result.accepted.join(", ") || "(none)"}`,
  ];
  if (result.rejected.length === 0) lines.push("  rejected:  (none)");
  for (const r of result.rejected) lines.push(`  rejected:  ${rejection(r)}`);
  lines.push(`  server:    ${result.response.replace(/\n/g, " ")}`);
  return `${lines.join("\n")}\n`;
}

/** Human text for a credential report. */
export function formatReport(report: CredentialReport, username: string): string {
  const tls = report.tls
    ? `${report.tls.protocol ?? "encrypted"}${report.tls.cipher ? ` (${report.tls.cipher})` : ""}`
    : "none (unencrypted)";
  const size = report.sizeLimit === undefined ? "not advertised" : report.sizeLimit === 0 ? "no limit" : `${report.sizeLimit} octets`;
  const lines = [
    `Credential valid: ${username} on ${report.host}:${report.port} (${report.encryption})`,
    `  server:     ${report.serverName}`,
    `  greeting:   ${report.greeting}`,
    `  tls:        ${tls}`,
    `  auth:       ${report.authMethod ?? "(none)"} (offered: ${report.authMechanisms.join(", ") || "none"})`,
    `  size limit: ${size}`,
    `  extensions: ${Object.keys(report.extensions).join(", ")}`,
  ];
  return `${lines.join("\n")}\n`;
}
