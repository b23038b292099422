/**
 * The "SMTP" credential of the integration guide: its fields, defaults and checks.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { checkPort, DEFAULT_PORTS, isBearerToken, type Encryption, type TransportOptions } from "../options.ts";
import { Secret } from "../secret.ts";
import { isPlainObject, ownValue } from "./plain-object.ts";

/**
 * How the credential logs in: `login` (default) and `plain` with the password; `oauth2`
 * with an OAuth2 access token (sent with XOAUTH2, which Office 365 and Gmail both accept).
 */
export type CredentialAuthMethod = "login" | "plain" | "oauth2";

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
  /** Password or app password; required unless `authMethod` is `oauth2`. */
  password?: string;
  /** `login` (default), `plain` or `oauth2`. */
  authMethod?: CredentialAuthMethod;
  /** OAuth2 access token for the username; required for (and only used with) `oauth2`. */
  accessToken?: string;
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
  authMethod: CredentialAuthMethod;
}

/** The credential table's defaults (integration guide, "SMTP Credentials"). */
export const CREDENTIAL_DEFAULTS: Readonly<{ port: number; encryption: Encryption; authMethod: CredentialAuthMethod }> =
  Object.freeze({ port: DEFAULT_PORTS.starttls, encryption: "starttls", authMethod: "login" });

const FIELDS = ["host", "port", "encryption", "username", "password", "authMethod", "accessToken"];
const AUTH_METHODS: readonly CredentialAuthMethod[] = ["login", "plain", "oauth2"];

function requiredString(input: Record<string, unknown>, key: string, why = ""): string {
  const value = ownValue(input, key);
  if (value === undefined || value === null || value === "") {
    throw new SmtpValidationError(`credential.${key}`, `is required${why}`);
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
  const authMethod = choice(input, "authMethod", AUTH_METHODS, CREDENTIAL_DEFAULTS.authMethod);
  const credential: ResolvedCredential = { host, port, encryption, username, authMethod };
  // Secrets travel as Secret objects: logging or inspecting this result shows "[redacted]".
  // Each method reads only its own secret field; the other one is ignored.
  if (authMethod === "oauth2") {
    const accessToken = requiredString(input, "accessToken", ' for authMethod "oauth2"');
    if (!isBearerToken(accessToken)) {
      throw new SmtpValidationError("credential.accessToken", "must be an OAuth2 access token (no spaces or control characters)");
    }
    if (/[\x00-\x1f\x7f]/.test(username)) {
      throw new SmtpValidationError("credential.username", "must not contain control characters");
    }
    return { credential, transport: { host, port, encryption, auth: { username, accessToken: new Secret(accessToken), method: "xoauth2" } } };
  }
  const password = requiredString(input, "password");
  return { credential, transport: { host, port, encryption, auth: { username, password: new Secret(password), method: authMethod } } };
}
