/**
 * Every transport option, its default, and the check that turns caller input into
 * resolved options before any socket opens.
 *
 * @module
 */

import { SmtpValidationError } from "./errors.ts";
import { resolveLimits, type Limits } from "./limits.ts";
import { Secret } from "./secret.ts";
import type { Connector } from "./socket.ts";

/** Connection security, as the NINA credential names it. */
export type Encryption = "starttls" | "tls" | "none";

/** SASL mechanisms the client can use. */
export type AuthMethod = "login" | "plain";

/** Credentials for SMTP AUTH. */
export interface AuthOptions {
  /** User name, usually the mailbox address. Also the default sender. */
  username: string;
  /** Password or app password (or a {@link Secret} holding it). Never appears in errors, logs or inspected objects. */
  password: string | Secret;
  /** SASL mechanism; `"login"` by default. */
  method?: AuthMethod;
}

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
  /** Messages in flight at once on one connection when the server offers PIPELINING. Default 8. */
  maxPipelinedMessages?: number;
  /** Caps on recipients, attachments and server replies (see {@link Limits}). */
  limits?: Limits;
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
  auth?: { username: string; password: Secret; method: AuthMethod };
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
const AUTH_METHODS: readonly string[] = ["login", "plain"];
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

  let auth: ResolvedOptions["auth"];
  if (options.auth !== undefined) {
    if (!isPlainObject(options.auth)) throw new SmtpValidationError("auth", "must be an object");
    const username = checkString(options.auth.username, "auth.username");
    if (username === "") throw new SmtpValidationError("auth.username", "must not be empty");
    const given = options.auth.password;
    if (typeof given !== "string" && !(given instanceof Secret)) {
      throw new SmtpValidationError("auth.password", "must be a string");
    }
    const password = given instanceof Secret ? given : new Secret(given);
    if (password.reveal() === "") throw new SmtpValidationError("auth.password", "must not be empty");
    const method = options.auth.method ?? "login";
    if (!AUTH_METHODS.includes(method)) {
      throw new SmtpValidationError("auth.method", `must be "login" or "plain"`);
    }
    auth = { username, password, method };
  }

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
    maxPipelinedMessages: count(options.maxPipelinedMessages, "maxPipelinedMessages", 8, 1),
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
