/**
 * What "Create" runs for an SMTP credential: connect, negotiate TLS, authenticate, and
 * report what the server offers. A credential that cannot log in is never reported valid.
 *
 * @module
 */

import type { Connector } from "../socket.ts";
import { createTransport, type VerifyReport } from "../transport.ts";
import { parseCredential } from "./credential.ts";

/** Runtime plumbing for {@link validateCredential}. */
export interface ValidateRuntime {
  /** Opens sockets. */
  connector: Connector;
  /** Cancels the check. */
  signal?: AbortSignal;
  /** Overall deadline in milliseconds. */
  timeout?: number;
  /** Extra trusted CA certificate(s) in PEM form. */
  ca?: string | string[];
}

/** The report of a valid credential. */
export interface CredentialReport extends VerifyReport {
  /** Always true: an invalid credential throws instead. */
  valid: true;
}

/** Validates an SMTP credential against its server; throws a classified SmtpError when it cannot log in. */
export async function validateCredential(credential: unknown, runtime: ValidateRuntime): Promise<CredentialReport> {
  const { transport } = parseCredential(credential);
  const smtp = createTransport({ ...transport, connector: runtime.connector, ...(runtime.ca ? { ca: runtime.ca } : {}) });
  try {
    const report = await smtp.verify({
      ...(runtime.signal ? { signal: runtime.signal } : {}),
      ...(runtime.timeout !== undefined ? { timeout: runtime.timeout } : {}),
    });
    return { ...report, valid: true };
  } finally {
    await smtp.close();
  }
}
