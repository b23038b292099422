/**
 * Every transport option, its default, and the check that turns caller input into
 * resolved options before any socket opens.
 *
 * @module
 */

import { SmtpValidationError } from "./errors.ts";
import type { DkimOptions } from "./dkim/options.ts";
import { resolveLimits, type Limits } from "./limits.ts";
import { Secret } from "./secret.ts";
import type { Connector } from "./socket.ts";

/** Connection security, as the NINA credential names it. */
export type Encryption = "starttls" | "tls" | "none";

/**
 * SASL mechanism to authenticate with. `"login"`, `"plain"` and `"cram-md5"` take a
 * password; `"xoauth2"` and `"oauthbearer"` take an OAuth2 access token; `"auto"` picks the
 * strongest one the server offers for the credential given (password: CRAM-MD5, then
 * PLAIN, then LOGIN; token: OAUTHBEARER, then XOAUTH2).
 */
export type AuthMethod = "login" | "plain" | "cram-md5" | "xoauth2" | "oauthbearer" | "auto";

/** The mechanisms that take a password. */
export type PasswordAuthMethod = "login" | "plain" | "cram-md5";

/** The mechanisms that take an OAuth2 access token. */
export type TokenAuthMethod = "xoauth2" | "oauthbearer";

/** What a {@link TokenProvider} is told when it is asked for an access token. */
export interface TokenContext {
  /** The account the token is for ({@link AuthOptions.username}). */
  username: string;
  /** The SMTP server's host name. */
  host: string;
  /**
   * False on the first request of a connection (a cached, unexpired token will do); true
   * when the server has just refused the previous token, so a fresh one is needed.
   */
  refresh: boolean;
}

/**
 * Returns an OAuth2 access token for SMTP. Called when a connection authenticates, and once
 * more with `refresh: true` if the server refuses the token (it has usually expired).
 */
export type TokenProvider = (context: TokenContext) => string | Promise<string>;

/**
 * Credentials for SMTP AUTH: a password, or an OAuth2 access token (`accessToken`, or a
 * `tokenProvider` that can refresh it), never both.
 */
export interface AuthOptions {
  /** User name, usually the mailbox address. Also the default sender. */
  username: string;
  /**
   * Password or app password (or a {@link Secret} holding it), for `"login"`, `"plain"`,
   * `"cram-md5"` and `"auto"`. Never appears in errors, logs or inspected objects.
   */
  password?: string | Secret;
  /**
   * SASL mechanism; `"login"` by default with a password, `"auto"` with an access token or
   * token provider.
   */
  method?: AuthMethod;
  /**
   * An OAuth2 access token (or a {@link Secret} holding it), for `"xoauth2"`,
   * `"oauthbearer"` and `"auto"`. Redacted like a password. It cannot be refreshed: when it
   * expires, AUTH fails; use {@link AuthOptions.tokenProvider} to refresh automatically.
   */
  accessToken?: string | Secret;
  /** Returns an access token, and a fresh one when asked to refresh; instead of `accessToken`. */
  tokenProvider?: TokenProvider;
}

/** Resolved credentials: a password, or an OAuth2 bearer token (fixed or from a provider). */
export type ResolvedAuth =
  | {
    /** Password authentication. */
    kind: "password";
    /** See {@link AuthOptions.username}. */
    username: string;
    /** See {@link AuthOptions.password}. */
    password: Secret;
    /** See {@link AuthOptions.method}. */
    method: PasswordAuthMethod | "auto";
  }
  | {
    /** OAuth2 bearer-token authentication. */
    kind: "token";
    /** See {@link AuthOptions.username}. */
    username: string;
    /** See {@link AuthOptions.accessToken}; absent when a provider is given. */
    accessToken?: Secret;
    /** See {@link AuthOptions.tokenProvider}; absent when a fixed token is given. */
    tokenProvider?: TokenProvider;
    /** See {@link AuthOptions.method}. */
    method: TokenAuthMethod | "auto";
  };

/** Deadlines in milliseconds. */
export interface Timeouts {
  /** TCP connect plus, for implicit TLS, the handshake. Default 15 000. */
  connect?: number;
  /** Waiting for the 220 greeting. Default 30 000. */
  greeting?: number;
  /** Each command's reply. Default 30 000. */
  command?: number;
  /** The reply after the message body (RFC 5321 §4.5.3.2.6 suggests 10 minutes). Default 120 000. */
  data?: number;
  /** QUIT and socket close. Default 2 000. */
  close?: number;
}

/** One protocol transcript line given to a {@link TransportOptions.logger}. */
export interface TranscriptLine {
  /** `"client"` for what was sent, `"server"` for what came back. */
  direction: "client" | "server";
  /** The line without CRLF; AUTH secrets replaced by `"[redacted]"`. */
  line: string;
}

/** Options for {@link createTransport}. */
export interface TransportOptions {
  /** SMTP server host name or IP address. */
  host: string;
  /** Port; defaults to 587 for starttls, 465 for tls, 25 for none. */
  port?: number;
  /** `"starttls"` (default, and required), `"tls"` (implicit) or `"none"` (trusted networks only). */
  encryption?: Encryption;
  /** Credentials; without them no AUTH is attempted. */
  auth?: AuthOptions;
  /** Name to verify the certificate against; defaults to `host`. */
  servername?: string;
  /** Extra trusted CA certificate(s) in PEM form, for a private CA. */
  ca?: string | string[];
  /** EHLO name; defaults to the runtime's host name when it is a FQDN, else `[127.0.0.1]`. */
  clientName?: string;
  /** Deadlines. */
  timeouts?: Timeouts;
  /** Receives the protocol transcript with AUTH exchanges redacted. */
  logger?: (line: TranscriptLine) => void;
  /** Most connections open at once for concurrent sends. Default 1. */
  maxConnections?: number;
  /** Messages sent over one connection before it is replaced. Default 100. */
  maxMessagesPerConnection?: number;
  /**
   * How long (ms) an idle connection stays open for the next send. Default 0: the
   * connection is closed (QUIT) as soon as no send is waiting. With a value above 0, call
   * `close()` when done, or the open socket keeps the process alive until the timeout.
   */
  idleTimeout?: number;
  /** Messages in flight at once on one connection when the server offers PIPELINING. Default 100. */
  maxPipelinedMessages?: number;
  /** Caps on recipients, attachments and server replies (see {@link Limits}). */
  limits?: Limits;
  /** Signs every message with DKIM (RFC 6376); see {@link DkimOptions}. */
  dkim?: DkimOptions;
  /** Opens sockets; picked for the runtime by the package entry when omitted. */
  connector?: Connector;
}

/** Options after validation, with every default filled in. */
export interface ResolvedOptions {
  /** See {@link TransportOptions.host}. */
  host: string;
  /** See {@link TransportOptions.port}. */
  port: number;
  /** See {@link TransportOptions.encryption}. */
  encryption: Encryption;
  /** See {@link TransportOptions.auth}. */
  auth?: ResolvedAuth;
  /** See {@link TransportOptions.servername}. */
  servername: string;
  /** See {@link TransportOptions.ca}. */
  ca?: string[];
  /** See {@link TransportOptions.clientName}; undefined means ask the connector. */
  clientName?: string;
  /** See {@link Timeouts}. */
  timeouts: Required<Timeouts>;
  /** See {@link TransportOptions.logger}. */
  logger?: (line: TranscriptLine) => void;
  /** See {@link TransportOptions.maxConnections}. */
  maxConnections: number;
  /** See {@link TransportOptions.maxMessagesPerConnection}. */
  maxMessagesPerConnection: number;
  /** See {@link TransportOptions.idleTimeout}. */
  idleTimeout: number;
  /** See {@link TransportOptions.maxPipelinedMessages}. */
  maxPipelinedMessages: number;
  /** See {@link TransportOptions.limits}. */
  limits: Required<Limits>;
}

/** Default deadlines. */
export const DEFAULT_TIMEOUTS: Readonly<Required<Timeouts>> = Object.freeze({
  connect: 15_000,
  greeting: 30_000,
  command: 30_000,
  data: 120_000,
  close: 2_000,
});

/** The port each encryption mode conventionally uses. */
export const DEFAULT_PORTS: Readonly<Record<Encryption, number>> = Object.freeze({
  starttls: 587,
  tls: 465,
  none: 25,
});

const ENCRYPTIONS: readonly string[] = ["starttls", "tls", "none"];
const PASSWORD_METHODS: readonly string[] = ["login", "plain", "cram-md5"];
const TOKEN_METHODS: readonly string[] = ["xoauth2", "oauthbearer"];
const AUTH_METHODS: readonly string[] = [...PASSWORD_METHODS, ...TOKEN_METHODS, "auto"];
// RFC 6750 §2.1 b64token, generously: a bearer token never holds spaces or control bytes,
// and 0x01 would end an XOAUTH2 or OAUTHBEARER field early.
const BEARER_TOKEN_PATTERN = /^[\x21-\x7e]+$/;
// RFC 1123 host name or an IPv4 / bracket-less IPv6 literal; nothing that could reach a command.
const HOST_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$|^[0-9A-Fa-f:.]+$/;
// An EHLO argument: a domain or an address literal (RFC 5321 §4.1.3).
const CLIENT_NAME_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$|^\[IPv6:[0-9A-Fa-f:.]+\]$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkString(value: unknown, field: string): string {
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string");
  if (/[\r\n\0]/.test(value)) throw new SmtpValidationError(field, "must not contain CR, LF or NUL");
  return value;
}

function checkTimeout(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new SmtpValidationError(field, "must be a positive number of milliseconds");
  }
  return value;
}

function count(value: unknown, field: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new SmtpValidationError(field, `must be an integer of at least ${min}`);
  }
  return value;
}

/** Checks a port number: an integer from 1 to 65535. */
export function checkPort(value: unknown, field = "port"): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new SmtpValidationError(field, "must be an integer from 1 to 65535");
  }
  return value;
}

function resolvePassword(given: unknown): Secret {
  if (given === undefined) throw new SmtpValidationError("auth.password", "is required");
  if (typeof given !== "string" && !(given instanceof Secret)) {
    throw new SmtpValidationError("auth.password", "must be a string");
  }
  const password = given instanceof Secret ? given : new Secret(given);
  if (password.reveal() === "") throw new SmtpValidationError("auth.password", "must not be empty");
  return password;
}

function resolveToken(given: unknown): Secret {
  if (typeof given !== "string" && !(given instanceof Secret)) {
    throw new SmtpValidationError("auth.accessToken", "must be a string");
  }
  const token = given instanceof Secret ? given : new Secret(given);
  if (token.reveal() === "") throw new SmtpValidationError("auth.accessToken", "must not be empty");
  if (!isBearerToken(token.reveal())) {
    throw new SmtpValidationError("auth.accessToken", "must be a bearer token (no spaces or control characters)");
  }
  return token;
}

/** Validates {@link AuthOptions}: a password or a token, and a method that fits it. */
function resolveAuth(input: unknown): ResolvedAuth {
  if (!isPlainObject(input)) throw new SmtpValidationError("auth", "must be an object");
  const username = checkString(input.username, "auth.username");
  if (username === "") throw new SmtpValidationError("auth.username", "must not be empty");
  const given = input.method;
  if (given !== undefined && (typeof given !== "string" || !AUTH_METHODS.includes(given))) {
    throw new SmtpValidationError("auth.method", `must be one of ${AUTH_METHODS.map((m) => `"${m}"`).join(", ")}`);
  }
  const { accessToken, tokenProvider } = input;
  if (accessToken !== undefined && tokenProvider !== undefined) {
    throw new SmtpValidationError("auth.tokenProvider", "must not be given together with auth.accessToken (give one of them)");
  }
  if (tokenProvider !== undefined && typeof tokenProvider !== "function") {
    throw new SmtpValidationError("auth.tokenProvider", "must be a function");
  }
  const usesToken = accessToken !== undefined || tokenProvider !== undefined;
  if (!usesToken) {
    const method = (given ?? "login") as AuthMethod;
    if (TOKEN_METHODS.includes(method)) {
      throw new SmtpValidationError("auth.accessToken", `is required for auth method "${method}" (or give auth.tokenProvider)`);
    }
    return { kind: "password", username, password: resolvePassword(input.password), method: method as PasswordAuthMethod | "auto" };
  }
  const method = (given ?? "auto") as AuthMethod;
  if (PASSWORD_METHODS.includes(method)) {
    throw new SmtpValidationError("auth.password", `is required for auth method "${method}"; an access token needs "xoauth2", "oauthbearer" or "auto"`);
  }
  if (input.password !== undefined) {
    throw new SmtpValidationError("auth.password", "must not be given together with an access token or token provider");
  }
  // The token methods put the user name into 0x01-separated fields.
  if (/[\x00-\x1f\x7f]/.test(username)) {
    throw new SmtpValidationError("auth.username", "must not contain control characters");
  }
  const auth: ResolvedAuth = { kind: "token", username, method: method as TokenAuthMethod | "auto" };
  if (accessToken !== undefined) auth.accessToken = resolveToken(accessToken);
  else auth.tokenProvider = tokenProvider as TokenProvider;
  return auth;
}

/** True when `token` can be sent as an OAuth2 bearer token (printable ASCII, no spaces). */
export function isBearerToken(token: string): boolean {
  return BEARER_TOKEN_PATTERN.test(token);
}

/** Validates caller options and fills in defaults; throws {@link SmtpValidationError} naming the field. */
export function resolveOptions(options: TransportOptions): ResolvedOptions {
  if (!isPlainObject(options)) throw new SmtpValidationError("options", "must be an object");
  const host = checkString(options.host, "host").trim();
  if (host === "" || !HOST_PATTERN.test(host)) {
    throw new SmtpValidationError("host", "must be a host name or IP address");
  }
  const encryption = options.encryption ?? "starttls";
  if (!ENCRYPTIONS.includes(encryption)) {
    throw new SmtpValidationError("encryption", `must be one of "starttls", "tls" or "none"`);
  }
  const port = options.port === undefined ? DEFAULT_PORTS[encryption] : checkPort(options.port);

  const auth = options.auth === undefined ? undefined : resolveAuth(options.auth);

  const servername = options.servername === undefined ? host : checkString(options.servername, "servername");
  let ca: string[] | undefined;
  if (options.ca !== undefined) {
    const list = Array.isArray(options.ca) ? options.ca : [options.ca];
    ca = list.map((pem, i) => {
      if (typeof pem !== "string" || !pem.includes("-----BEGIN")) {
        throw new SmtpValidationError(`ca[${i}]`, "must be a PEM certificate");
      }
      return pem;
    });
  }
  let clientName: string | undefined;
  if (options.clientName !== undefined) {
    clientName = checkString(options.clientName, "clientName");
    if (!CLIENT_NAME_PATTERN.test(clientName)) {
      throw new SmtpValidationError("clientName", "must be a domain name or an address literal such as [192.0.2.1]");
    }
  }
  const timeouts = { ...DEFAULT_TIMEOUTS };
  if (options.timeouts !== undefined) {
    if (!isPlainObject(options.timeouts)) throw new SmtpValidationError("timeouts", "must be an object");
    for (const key of Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]) {
      const value = options.timeouts[key];
      if (value !== undefined) timeouts[key] = checkTimeout(value, `timeouts.${key}`);
    }
  }
  if (options.logger !== undefined && typeof options.logger !== "function") {
    throw new SmtpValidationError("logger", "must be a function");
  }
  const resolved: ResolvedOptions = {
    host, port, encryption, servername, timeouts,
    maxConnections: count(options.maxConnections, "maxConnections", 1, 1),
    maxMessagesPerConnection: count(options.maxMessagesPerConnection, "maxMessagesPerConnection", 100, 1),
    idleTimeout: count(options.idleTimeout, "idleTimeout", 0, 0),
    maxPipelinedMessages: count(options.maxPipelinedMessages, "maxPipelinedMessages", 100, 1),
    limits: resolveLimits(options.limits),
  };
  if (auth) resolved.auth = auth;
  if (ca) resolved.ca = ca;
  if (clientName) resolved.clientName = clientName;
  if (options.logger) resolved.logger = options.logger;
  return resolved;
}

/** True when `name` is a valid EHLO argument. */
export function isValidClientName(name: string): boolean {
  return CLIENT_NAME_PATTERN.test(name);
}
