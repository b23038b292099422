/**
 * The error taxonomy. Every failure is an {@link SmtpError} with a stable `code`, a
 * `retryable` verdict and the `phase` it happened in; server replies also carry the
 * command, reply code, enhanced status code (RFC 3463) and text. No error ever holds a
 * password or token: commands that carry secrets are recorded by verb only.
 *
 * @module
 */

/** Where in the session a failure happened. */
export type SmtpPhase =
  | "validation"
  | "connect"
  | "greeting"
  | "tls"
  | "auth"
  | "envelope"
  | "data"
  | "quit";

/** Stable error codes; the README's troubleshooting table explains each. */
export type SmtpErrorCode =
  | "EVALIDATION"
  | "EATTACHMENT"
  | "ECONNREFUSED"
  | "ENOTFOUND"
  | "ECONNRESET"
  | "ECONNECTION"
  | "ESERVICE"
  | "ETIMEDOUT"
  | "EABORT"
  | "ETLS"
  | "ECERT"
  | "ESTARTTLS"
  | "ETLSMODE"
  | "EPROTOCOL"
  | "EAUTH"
  | "EAUTHMECH"
  | "ESENDER"
  | "ERECIPIENTS"
  | "ESMTPUTF8"
  | "ESIZE"
  | "EMESSAGE"
  | "EINDETERMINATE"
  | "ECLOSED";

/** A server reply, as attached to errors and receipts. */
export interface SmtpReplyInfo {
  /** Three-digit reply code. */
  code: number;
  /** RFC 3463 enhanced status code such as `"5.7.8"`, when the server gave one. */
  enhancedCode?: string;
  /** The reply text, lines joined with `\n`, without codes. */
  message: string;
}

/** Details shared by every {@link SmtpError} constructor. */
export interface SmtpErrorDetails {
  /** Stable code. */
  code: SmtpErrorCode;
  /** Whether trying again later can help. */
  retryable: boolean;
  /** Where it happened. */
  phase: SmtpPhase;
  /** The command that drew the reply, secrets removed (for example `"AUTH PLAIN"`). */
  command?: string;
  /** The server's reply, when there was one. */
  reply?: SmtpReplyInfo;
  /** What the user can do about it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** Base class of every error this library throws. */
export class SmtpError extends Error {
  /** Stable code (see the README's troubleshooting table). */
  readonly code: SmtpErrorCode;
  /** Whether trying again later can help. */
  readonly retryable: boolean;
  /** Where in the session it happened. */
  readonly phase: SmtpPhase;
  /** The command that drew the reply, with secrets removed. */
  readonly command?: string;
  /** The server's reply code. */
  readonly replyCode?: number;
  /** The server's enhanced status code (RFC 3463). */
  readonly enhancedCode?: string;
  /** The server's reply text. */
  readonly serverMessage?: string;
  /** What the user can do about it. */
  readonly hint?: string;

  /** @param message sentence-case text without a final period; @param details classification */
  constructor(message: string, details: SmtpErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.retryable = details.retryable;
    this.phase = details.phase;
    if (details.command !== undefined) this.command = details.command;
    if (details.reply) {
      this.replyCode = details.reply.code;
      if (details.reply.enhancedCode) this.enhancedCode = details.reply.enhancedCode;
      this.serverMessage = details.reply.message;
    }
    if (details.hint !== undefined) this.hint = details.hint;
  }

  /** A plain, JSON-safe view (what NINA passes downstream). */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      phase: this.phase,
    };
    for (const key of ["command", "replyCode", "enhancedCode", "serverMessage", "hint"] as const) {
      if (this[key] !== undefined) out[key] = this[key];
    }
    return out;
  }
}

/** Bad input, found before any socket opened. `field` names the offending input. */
export class SmtpValidationError extends SmtpError {
  /** Path of the bad input, for example `"to[1]"` or `"attachments[0].content"`. */
  readonly field: string;

  /** @param field the input path; @param message what is wrong with it; @param code `EVALIDATION` or `EATTACHMENT` */
  constructor(field: string, message: string, code: "EVALIDATION" | "EATTACHMENT" = "EVALIDATION") {
    super(`Invalid ${field}: ${message}`, { code, retryable: false, phase: "validation" });
    this.field = field;
  }

  /** @inheritdoc */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), field: this.field };
  }
}

/** The TCP connection could not be made, or was lost, or the server is unavailable (421). */
export class SmtpConnectionError extends SmtpError {}

/** A deadline passed; the socket was destroyed. */
export class SmtpTimeoutError extends SmtpError {}

/** The caller's AbortSignal fired; the socket was destroyed. */
export class SmtpAbortError extends SmtpError {}

/** TLS could not be established: handshake, certificate, STARTTLS missing or a mode/port mismatch. */
export class SmtpTlsError extends SmtpError {}

/** The server broke the protocol: malformed replies, unexpected greeting, injected bytes. */
export class SmtpProtocolError extends SmtpError {}

/** Authentication failed or could not be attempted. */
export class SmtpAuthError extends SmtpError {}

/** One recipient the server refused. */
export interface RecipientRejection extends SmtpReplyInfo {
  /** The refused address. */
  address: string;
  /** True for a 4xx reply (try again later), false for 5xx. */
  retryable: boolean;
}

/** The sender was refused, or every recipient was. `rejected` lists each refusal. */
export class SmtpEnvelopeError extends SmtpError {
  /** Every refused recipient with the server's reply. */
  readonly rejected: RecipientRejection[];

  /** @param message summary; @param details classification; @param rejected refused recipients */
  constructor(message: string, details: SmtpErrorDetails, rejected: RecipientRejection[] = []) {
    super(message, details);
    this.rejected = rejected;
  }

  /** @inheritdoc */
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), rejected: this.rejected };
  }
}

/** The server refused the message itself (its size, or its content after DATA). */
export class SmtpMessageError extends SmtpError {}

/**
 * The connection was lost after the message's final dot but before the server's reply:
 * the message may or may not have been delivered, and a retry may duplicate it.
 */
export class SmtpIndeterminateError extends SmtpError {}

/** True for 4xx replies: the server asks the client to try again later (RFC 5321 §4.2.1). */
export function isTransientReply(code: number): boolean {
  return code >= 400 && code < 500;
}
