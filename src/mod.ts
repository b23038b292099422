/**
 * @nina/smtp core: a runtime-agnostic SMTP client. This module needs a connector; the
 * package entries (`@nina/smtp`, `@nina/smtp/node`, `/bun`, `/deno`, `/cloudflare`) bind
 * the runtime's own.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp";
 *
 * const smtp = createTransport({
 *   host: "smtp.example.com",
 *   encryption: "starttls",
 *   auth: { username: "alerts@example.com", password: "app-password" },
 * });
 * const receipt = await smtp.send({ to: "ada@example.com", subject: "Hello", text: "Hi Ada" });
 * console.log(receipt.messageId, receipt.accepted);
 * await smtp.close();
 * ```
 *
 * @module
 */

export {
  createTransport,
  type CallOptions,
  type CoreTransportOptions,
  type SendOptions,
  type Transport,
  type VerifyReport,
} from "./transport.ts";
export type { SendProgress, SendReceipt } from "./transaction.ts";
export {
  DEFAULT_PORTS,
  DEFAULT_TIMEOUTS,
  type AuthMethod,
  type AuthOptions,
  type Encryption,
  type PasswordAuthMethod,
  type Timeouts,
  type TokenAuthMethod,
  type TokenContext,
  type TokenProvider,
  type TranscriptLine,
  type TransportOptions,
} from "./options.ts";
export { Secret } from "./secret.ts";
export { DEFAULT_LIMITS, type Limits } from "./limits.ts";
export type {
  Address,
  Attachment,
  ComposedMessage,
  DsnNotify,
  DsnOptions,
  Envelope,
  HeaderFields,
  Importance,
  MailMessage,
} from "./message.ts";
export type { ComposeOptions } from "./mime/compose.ts";
export { buildMessage } from "./engine-loader.ts";
export type { BuildOptions, BuiltMessage } from "./mime/build.ts";
export { DEFAULT_DKIM_HEADER_FIELDS, type DkimOptions } from "./dkim/options.ts";
export type { DkimAlgorithm } from "./dkim/key.ts";
export {
  SmtpAbortError,
  SmtpAuthError,
  SmtpConnectionError,
  SmtpEnvelopeError,
  SmtpError,
  SmtpIndeterminateError,
  SmtpMessageError,
  SmtpProtocolError,
  SmtpTimeoutError,
  SmtpTlsError,
  SmtpValidationError,
  type RecipientRejection,
  type SmtpErrorCode,
  type SmtpPhase,
  type SmtpReplyInfo,
} from "./errors.ts";
export {
  SocketError,
  type ConnectParams,
  type Connector,
  type ConnectorCapabilities,
  type SmtpSocket,
  type SocketErrorKind,
  type TlsInfo,
  type TlsMode,
  type TlsParams,
} from "./socket.ts";
