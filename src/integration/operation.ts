/**
 * The integration's one operation, `email` / `send`: merged parameters become a message,
 * sent with the node's credential. The result is plain JSON for downstream nodes.
 *
 * @module
 */

import { SmtpValidationError, type RecipientRejection } from "../errors.ts";
import type { Attachment, MailMessage } from "../message.ts";
import type { Connector } from "../socket.ts";
import { createTransport } from "../transport.ts";
import { parseCredential } from "./credential.ts";
import { mergeParameters, type ParameterSource } from "./merge.ts";
import { isPlainObject, ownValue } from "./plain-object.ts";

/** An SMTP integration node as NINA configures it. */
export interface SmtpNode {
  /** Must be `"email"`. */
  resource: string;
  /** Must be `"send"`. */
  operation: string;
  /** Node parameters: they take precedence over everything else. */
  parameters?: Record<string, unknown>;
}

/** What NINA hands the node when it runs. */
export interface SmtpNodeContext {
  /** The SMTP credential (see {@link parseCredential}). */
  credential: unknown;
  /** Parameters extracted from the input data. */
  extractedParameters?: Record<string, unknown>;
  /** The complete input data from upstream nodes. */
  inputData?: Record<string, unknown>;
}

/** Runtime plumbing for {@link executeSmtpNode}. */
export interface SmtpNodeRuntime {
  /** Opens sockets (the package entries supply the runtime's own). */
  connector: Connector;
  /** Cancels the send. */
  signal?: AbortSignal;
  /** Overall deadline in milliseconds. */
  timeout?: number;
  /** Extra trusted CA certificate(s) in PEM form, for a private server. */
  ca?: string | string[];
}

/** The JSON result passed downstream. */
export interface SmtpSendResult {
  /** The Message-ID header value. */
  messageId: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /** Recipients refused, each with code, enhanced code, message and retryable. */
  rejected: RecipientRejection[];
  /** The server's final reply. */
  response: string;
  /** The SMTP envelope. */
  envelope: { from: string; to: string[] };
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) throw new SmtpValidationError(field, "must be an array of email addresses");
  return list.map((item, i) => {
    if (typeof item !== "string") throw new SmtpValidationError(`${field}[${i}]`, "must be a string");
    return item;
  });
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string");
  return value;
}

function attachmentsFrom(value: unknown): Attachment[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new SmtpValidationError("attachments", "must be an array", "EATTACHMENT");
  return value.map((item, i) => {
    if (!isPlainObject(item)) throw new SmtpValidationError(`attachments[${i}]`, "must be an object with filename and content", "EATTACHMENT");
    const filename = ownValue(item, "filename");
    const content = ownValue(item, "content");
    if (typeof filename !== "string" || filename === "") {
      throw new SmtpValidationError(`attachments[${i}].filename`, "is required", "EATTACHMENT");
    }
    if (typeof content !== "string") {
      throw new SmtpValidationError(`attachments[${i}].content`, "must be a base64 string", "EATTACHMENT");
    }
    return { filename, content };
  });
}

/** Turns merged parameters into a message (spec names → library names). */
export function messageFromParameters(values: Record<string, unknown>): MailMessage {
  const to = stringList(values.to, "to");
  if (!to || to.length === 0) throw new SmtpValidationError("to", "is required (at least one address)");
  const subject = values.subject;
  if (typeof subject !== "string") {
    throw new SmtpValidationError("subject", subject === undefined ? "is required" : "must be a string");
  }
  const body = values.body;
  if (typeof body !== "string") throw new SmtpValidationError("body", body === undefined ? "is required" : "must be a string");
  const contentType = values.contentType ?? "text";
  if (contentType !== "text" && contentType !== "html") {
    throw new SmtpValidationError("contentType", `must be "text" or "html"`);
  }
  const message: MailMessage = { to, subject };
  if (contentType === "html") message.html = body;
  else message.text = body;
  const from = optionalString(values.from, "from");
  if (from !== undefined) message.from = from;
  const cc = stringList(values.cc, "cc");
  if (cc) message.cc = cc;
  const bcc = stringList(values.bcc, "bcc");
  if (bcc) message.bcc = bcc;
  const replyTo = optionalString(values.replyTo, "replyTo");
  if (replyTo !== undefined) message.replyTo = replyTo;
  const importance = values.importance;
  if (importance !== undefined) {
    if (importance !== "normal" && importance !== "high" && importance !== "low") {
      throw new SmtpValidationError("importance", `must be "normal", "high" or "low"`);
    }
    message.importance = importance;
  }
  const attachments = attachmentsFrom(values.attachments);
  if (attachments) message.attachments = attachments;
  return message;
}

/** Checks resource and operation; the only pair is `email` / `send`. */
export function checkOperation(node: unknown): SmtpNode {
  if (!isPlainObject(node)) throw new SmtpValidationError("node", "must be an object");
  const resource = ownValue(node, "resource");
  const operation = ownValue(node, "operation");
  if (resource !== "email") {
    throw new SmtpValidationError("resource", `unknown resource ${JSON.stringify(resource)}; the SMTP integration supports "email"`);
  }
  if (operation !== "send") {
    throw new SmtpValidationError("operation", `unknown operation ${JSON.stringify(operation)} for resource "email"; supported: "send"`);
  }
  return node as unknown as SmtpNode;
}

/** Resolves everything a send needs without opening a socket: credential, merged parameters, message. */
export function prepareSend(
  node: unknown,
  context: SmtpNodeContext,
): { message: MailMessage; sources: Record<string, ParameterSource>; transport: ReturnType<typeof parseCredential>["transport"] } {
  const checked = checkOperation(node);
  const { transport } = parseCredential(context?.credential);
  const merged = mergeParameters(ownValue(checked, "parameters"), context.extractedParameters, context.inputData);
  return { message: messageFromParameters(merged.values), sources: merged.sources, transport };
}

/** Runs an SMTP integration node: validates everything, then sends. */
export async function executeSmtpNode(node: unknown, context: SmtpNodeContext, runtime: SmtpNodeRuntime): Promise<SmtpSendResult> {
  const { message, transport } = prepareSend(node, context);
  const smtp = createTransport({ ...transport, connector: runtime.connector, ...(runtime.ca ? { ca: runtime.ca } : {}) });
  try {
    const receipt = await smtp.send(message, {
      ...(runtime.signal ? { signal: runtime.signal } : {}),
      ...(runtime.timeout !== undefined ? { timeout: runtime.timeout } : {}),
    });
    return {
      messageId: receipt.messageId,
      accepted: [...receipt.accepted],
      rejected: receipt.rejected.map((r) => ({ ...r })),
      response: receipt.response,
      envelope: { from: receipt.envelope.from, to: [...receipt.envelope.to] },
    };
  } finally {
    await smtp.close();
  }
}
