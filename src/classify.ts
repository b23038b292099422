/**
 * Turns socket failures and unwelcome server replies into classified {@link SmtpError}s
 * with a phase, a retry verdict and a hint that says what to change.
 *
 * @module
 */

import {
  SmtpAbortError,
  SmtpConnectionError,
  SmtpError,
  SmtpIndeterminateError,
  SmtpProtocolError,
  SmtpTimeoutError,
  SmtpTlsError,
  isTransientReply,
  type SmtpPhase,
} from "./errors.ts";
import type { Encryption } from "./options.ts";
import { replyInfo, type SmtpReply } from "./protocol/reply.ts";
import { SocketError } from "./socket.ts";

/** What the session was doing when something failed. */
export interface FailureContext {
  /** Current phase. */
  phase: SmtpPhase;
  /** Configured encryption mode. */
  encryption: Encryption;
  /** Dialled port. */
  port: number;
  /** Dialled host. */
  host: string;
  /** True right after STARTTLS, before the first reply over TLS. */
  justUpgraded?: boolean;
}

/** The hint for an encryption mode that does not match the port. */
export function tlsModeHint(ctx: FailureContext): string {
  if (ctx.encryption === "tls") {
    return `Port ${ctx.port} does not speak implicit TLS; try encryption "starttls" (usually port 587) or "none" (port 25)`;
  }
  return `Port ${ctx.port} seems to expect implicit TLS; try encryption "tls" (usually port 465)`;
}

/**
 * The error for a session that failed after a message's end marker was sent but before
 * its reply: the server may have accepted it (RFC 5321 §6.1 warns of duplicates).
 */
export function indeterminate(cause: SmtpError): SmtpError {
  return new SmtpIndeterminateError(
    `The message was sent but the server's confirmation never came (${cause.message})`,
    { code: "EINDETERMINATE", retryable: false, phase: "data", cause, hint: "The message may have been delivered; a retry may send it twice" },
  );
}

/** Classifies a failure reported by the socket layer. */
export function fromSocketError(error: SocketError, ctx: FailureContext): SmtpError {
  const base = { phase: ctx.phase, cause: error };
  const where = `${ctx.host}:${ctx.port}`;
  switch (error.kind) {
    case "ECONNREFUSED":
      return new SmtpConnectionError(`Connection to ${where} refused`, {
        ...base, code: "ECONNREFUSED", retryable: true,
        hint: "Check the host and port, and that the server accepts connections from here",
      });
    case "ENOTFOUND":
      return new SmtpConnectionError(`Host "${ctx.host}" not found`, {
        ...base, code: "ENOTFOUND", retryable: false, hint: "Check the host name",
      });
    case "ETIMEDOUT":
      return new SmtpTimeoutError(`Connection to ${where} timed out`, {
        ...base, code: "ETIMEDOUT", retryable: true,
        hint: "Check the host and port, and that a firewall allows outbound connections on this port",
      });
    case "TLS_UNTRUSTED":
    case "TLS_HOSTNAME":
      return new SmtpTlsError(`Certificate of ${where} rejected: ${error.message}`, {
        ...base, code: "ECERT", retryable: false,
        hint: error.kind === "TLS_HOSTNAME"
          ? "The certificate is not valid for this host name; connect by the name on the certificate"
          : "The certificate is not trusted; give the private CA with the ca option",
      });
    case "TLS":
      if (ctx.encryption === "tls" && ctx.phase === "connect") {
        return new SmtpTlsError(`TLS handshake with ${where} failed: ${error.message}`, {
          ...base, code: "ETLSMODE", retryable: false, hint: tlsModeHint(ctx),
        });
      }
      return new SmtpTlsError(`TLS with ${where} failed: ${error.message}`, {
        ...base, code: "ETLS", retryable: false,
      });
    case "ABORTED":
      return new SmtpAbortError("Operation aborted", { ...base, code: "EABORT", retryable: false });
    case "EOF":
    case "ECONNRESET":
    case "UNKNOWN":
    default:
      if (ctx.justUpgraded || (ctx.phase === "tls" && error.kind !== "UNKNOWN")) {
        return new SmtpTlsError(`TLS with ${where} failed: the connection closed during the handshake`, {
          ...base, code: "ETLS", retryable: false,
        });
      }
      if (ctx.encryption === "tls" && ctx.phase === "connect" && error.kind !== "UNKNOWN") {
        return new SmtpTlsError(`TLS handshake with ${where} failed: ${error.message}`, {
          ...base, code: "ETLSMODE", retryable: false, hint: tlsModeHint(ctx),
        });
      }
      return new SmtpConnectionError(`Connection to ${where} lost: ${error.message}`, {
        ...base, code: error.kind === "UNKNOWN" ? "ECONNECTION" : "ECONNRESET", retryable: true,
      });
  }
}

/** A 421 or other reply that closes the service (RFC 5321 §3.8). */
export function serviceUnavailable(command: string, reply: SmtpReply, phase: SmtpPhase): SmtpError {
  return new SmtpConnectionError(`Server unavailable: ${reply.code} ${replyInfo(reply).message}`, {
    code: "ESERVICE", retryable: isTransientReply(reply.code), phase, command, reply: replyInfo(reply),
    hint: isTransientReply(reply.code) ? "The server is busy or shutting down; try again later" : undefined,
  });
}

/** A reply that makes no sense at this point of the dialogue. */
export function unexpectedReply(command: string, reply: SmtpReply, phase: SmtpPhase): SmtpError {
  return new SmtpProtocolError(`Unexpected reply to ${command}: ${reply.code} ${replyInfo(reply).message}`, {
    code: "EPROTOCOL", retryable: isTransientReply(reply.code), phase, command, reply: replyInfo(reply),
  });
}

/** The error for an AbortSignal that fired: a timeout reason gives ETIMEDOUT, anything else EABORT. */
export function fromAbortReason(reason: unknown, phase: SmtpPhase, timeoutHint?: string): SmtpError {
  if (reason instanceof SmtpError) return reason;
  if (reason instanceof Error && reason.name === "TimeoutError") {
    return new SmtpTimeoutError(`${reason.message || "Operation timed out"} (during ${phase})`, {
      code: "ETIMEDOUT", retryable: true, phase, cause: reason, ...(timeoutHint ? { hint: timeoutHint } : {}),
    });
  }
  return new SmtpAbortError(`Operation aborted during ${phase}`, { code: "EABORT", retryable: false, phase, cause: reason });
}

/** Wraps anything that is not yet classified. */
export function toSmtpError(error: unknown, ctx: FailureContext): SmtpError {
  if (error instanceof SmtpError) return error;
  if (error instanceof SocketError) return fromSocketError(error, ctx);
  const message = error instanceof Error ? error.message : String(error);
  return fromSocketError(new SocketError("UNKNOWN", message, error), ctx);
}
