/**
 * The "SMTP" credential of the integration guide: its fields, defaults and checks.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { checkPort, DEFAULT_PORTS, type AuthMethod, type Encryption, type TransportOptions } from "../options.ts";
import { Secret } from "../secret.ts";
import { isPlainObject, ownValue } from "./plain-object.ts";

/** The SMTP credential as NINA stores it. */
export interface SmtpCredential {
  /** SMTP server hostname, for example `smtp.office365.com`. */
  host: string;
  /** Port; 587 by default. */
  port?: number | string;
  /** `starttls` (default), `tls` or `none`. */
  encryption?: Encryption;
  /** Usually the mailbox address; also the default sender. */
  username: string;
  /** Password or app password. */
  password: string;
  /** `login` (default) or `plain`. */
  authMethod?: AuthMethod;
}

/** The credential with defaults applied. */
export interface ResolvedCredential {
  /** See {@link SmtpCredential.host}. */
  host: string;
  /** See {@link SmtpCredential.port}. */
  port: number;
  /** See {@link SmtpCredential.encryption}. */
  encryption: Encryption;
  /** See {@link SmtpCredential.username}. */
  username: string;
  /** See {@link SmtpCredential.authMethod}. */
  authMethod: AuthMethod;
}

/** The credential table's defaults (integration guide, "SMTP Credentials"). */
export const CREDENTIAL_DEFAULTS: Readonly<{ port: number; encryption: Encryption; authMethod: AuthMethod }> =
  Object.freeze({ port: DEFAULT_PORTS.starttls, encryption: "starttls", authMethod: "login" });

const FIELDS = ["host", "port", "encryption", "username", "password", "authMethod"];

function requiredString(input: Record<string, unknown>, key: string): string {
  const value = ownValue(input, key);
  if (value === undefined || value === null || value === "") {
    throw new SmtpValidationError(`credential.${key}`, "is required");
  }
  if (typeof value !== "string") throw new SmtpValidationError(`credential.${key}`, "must be a string");
  if (/[\r\n\0]/.test(value) && key !== "password") {
    throw new SmtpValidationError(`credential.${key}`, "must not contain CR, LF or NUL");
  }
  return value;
}

function choice<T extends string>(input: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
  const value = ownValue(input, key);
  if (value === undefined || value === null || value === "") return fallback;
  const normal = typeof value === "string" ? value.trim().toLowerCase() : value;
  if (!allowed.includes(normal as T)) {
    throw new SmtpValidationError(`credential.${key}`, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
  }
  return normal as T;
}

/**
 * Checks a credential and applies its defaults. Throws {@link SmtpValidationError} naming
 * the field (`credential.host`, `credential.port`, …). Returns the transport options too.
 */
export function parseCredential(input: unknown): { credential: ResolvedCredential; transport: TransportOptions } {
  if (!isPlainObject(input)) throw new SmtpValidationError("credential", "must be an object");
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) throw new SmtpValidationError(`credential.${key}`, "is not a field of the SMTP credential");
  }
  const host = requiredString(input, "host").trim();
  const encryption = choice(input, "encryption", ["starttls", "tls", "none"] as const, CREDENTIAL_DEFAULTS.encryption);
  const rawPort = ownValue(input, "port");
  // The guide's default is 587 (for the default starttls); tls and none get their own ports.
  let port: number = DEFAULT_PORTS[encryption];
  if (rawPort !== undefined && rawPort !== null && rawPort !== "") {
    const numeric = typeof rawPort === "string" && /^\s*\d+\s*$/.test(rawPort) ? Number(rawPort) : rawPort;
    port = checkPort(numeric, "credential.port");
  }
  const username = requiredString(input, "username");
  const password = requiredString(input, "password");
  const authMethod = choice(input, "authMethod", ["login", "plain"] as const, CREDENTIAL_DEFAULTS.authMethod);
  return {
    credential: { host, port, encryption, username, authMethod },
    // The password travels as a Secret: logging or inspecting this result shows "[redacted]".
    transport: { host, port, encryption, auth: { username, password: new Secret(password), method: authMethod } },
  };
}
