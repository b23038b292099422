/**
 * One mail transaction (RFC 5321 §3.3): MAIL FROM, RCPT TO for each recipient, DATA and
 * the dot-stuffed body. With PIPELINING (RFC 2920) the envelope and DATA go out in one
 * write and the replies are matched in order.
 *
 * @module
 */

import type { SmtpSession } from "./client.ts";
import { serviceUnavailable } from "./classify.ts";
import {
  SmtpEnvelopeError,
  SmtpMessageError,
  isTransientReply,
  type RecipientRejection,
  type SmtpErrorCode,
} from "./errors.ts";
import type { ComposedMessage, Envelope } from "./message.ts";
import { mailCommand, rcptCommand } from "./protocol/commands.ts";
import { DotStuffer } from "./protocol/dot-stuffer.ts";
import { replyInfo, replyText, type SmtpReply } from "./protocol/reply.ts";

/** What a successful send returns. */
export interface SendReceipt {
  /** The Message-ID header value. */
  messageId: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /** Recipients the server refused, each with its reply. */
  rejected: RecipientRejection[];
  /** The server's final reply to the message, as one line. */
  response: string;
  /** The envelope used. */
  envelope: Envelope;
}

/** Progress of the message body, in octets of the composed message. */
export interface SendProgress {
  /** Octets written so far. */
  written: number;
  /** Total octets. */
  total: number;
}

// Replies that mean "too big": 552 (RFC 5321 §4.5.3.1.10, RFC 1870) or enhanced 5.3.4 / 4.3.4.
function isSizeReply(reply: SmtpReply): boolean {
  return reply.code === 552 || /^[45]\.3\.4$/.test(reply.enhancedCode ?? "");
}

const COALESCE = 64 * 1024;

function senderError(reply: SmtpReply, address: string): SmtpEnvelopeError | SmtpMessageError {
  const info = replyInfo(reply);
  if (isSizeReply(reply)) {
    return new SmtpMessageError(`Message too large for the server: ${reply.code} ${info.message}`, {
      code: "ESIZE", retryable: false, phase: "envelope", command: "MAIL FROM", reply: info,
      hint: "Reduce the message size (attachments); the server's limit is its SIZE extension",
    });
  }
  return new SmtpEnvelopeError(`Sender address <${address}> rejected: ${reply.code} ${info.message}`, {
    code: "ESENDER", retryable: isTransientReply(reply.code), phase: "envelope", command: "MAIL FROM", reply: info,
    hint: 'Many servers only accept the authenticated address as sender; a custom "from" needs permission on the server (for example "Send As" in Office 365)',
  });
}

function messageError(command: string, reply: SmtpReply, phase: "envelope" | "data"): SmtpMessageError {
  const info = replyInfo(reply);
  const code: SmtpErrorCode = isSizeReply(reply) ? "ESIZE" : "EMESSAGE";
  return new SmtpMessageError(`Message rejected: ${reply.code} ${info.message}`, {
    code, retryable: isTransientReply(reply.code), phase, command, reply: info,
    ...(code === "ESIZE" ? { hint: "Reduce the message size (attachments)" } : {}),
  });
}

/** Sends one composed message on an open session. Failures that leave the session usable set `needsReset`. */
export async function sendTransaction(
  session: SmtpSession,
  message: ComposedMessage,
  onProgress?: (progress: SendProgress) => void,
): Promise<SendReceipt> {
  const caps = session.capabilities;
  const { envelope } = message;
  session.setPhase("envelope");
  const limit = caps.sizeLimit;
  if (limit && message.size > limit) {
    throw new SmtpMessageError(`Message is ${message.size} bytes; the server accepts at most ${limit}`, {
      code: "ESIZE", retryable: false, phase: "envelope",
      hint: "Reduce the message size (attachments) below the server's SIZE limit",
    });
  }
  const mail = mailCommand(envelope.from, caps.has("SIZE") ? { size: message.size } : {});
  const rcpts = envelope.to.map(rcptCommand);
  const pipelined = caps.has("PIPELINING");
  session.needsReset = true;

  let mailReply: SmtpReply;
  const rcptReplies: SmtpReply[] = [];
  let dataReply: SmtpReply | undefined;
  const timeout = session.options.timeouts.command;
  if (pipelined) {
    await session.writeCommands([mail, ...rcpts, "DATA"]);
    mailReply = await session.readReply(timeout);
    for (let i = 0; i < rcpts.length; i++) rcptReplies.push(await session.readReply(timeout));
    dataReply = await session.readReply(timeout);
  } else {
    mailReply = await session.command(mail);
    if (mailReply.code === 250) {
      for (const rcpt of rcpts) {
        const reply = await session.command(rcpt);
        rcptReplies.push(reply);
        if (reply.code === 421) break;
      }
    }
  }
  for (const reply of [mailReply, ...rcptReplies, ...(dataReply ? [dataReply] : [])]) {
    if (reply.code === 421) throw session.fail(serviceUnavailable("MAIL FROM", reply, "envelope"));
  }
  if (mailReply.code !== 250) {
    if (dataReply?.code === 354) await abandonData(session);
    throw senderError(mailReply, envelope.from);
  }

  const accepted: string[] = [];
  const rejected: RecipientRejection[] = [];
  rcptReplies.forEach((reply, i) => {
    const address = envelope.to[i] as string;
    if (reply.code === 250 || reply.code === 251) accepted.push(address);
    else rejected.push({ address, ...replyInfo(reply), retryable: isTransientReply(reply.code) });
  });
  if (accepted.length === 0) {
    // RFC 2920 §3.1: with every RCPT refused, a 354 to the pipelined DATA gets an empty body.
    if (dataReply?.code === 354) await abandonData(session);
    const first = rejected[0];
    throw new SmtpEnvelopeError(
      `All ${rejected.length} recipient(s) rejected${first ? `: ${first.code} ${first.message}` : ""}`,
      {
        code: "ERECIPIENTS", retryable: rejected.every((r) => r.retryable), phase: "envelope", command: "RCPT TO",
        ...(first ? { reply: first } : {}),
        hint: "Check the recipient addresses; the server's reply for each is in rejected",
      },
      rejected,
    );
  }

  dataReply ??= await session.command("DATA");
  if (dataReply.code !== 354) {
    if (dataReply.code === 421) throw session.fail(serviceUnavailable("DATA", dataReply, "data"));
    throw messageError("DATA", dataReply, "data");
  }

  session.setPhase("data");
  await writeBody(session, message, onProgress);
  session.setAfterDot(true);
  const final = await session.readReply(session.options.timeouts.data, "the server to accept the message");
  session.setAfterDot(false);
  session.needsReset = false;
  if (final.code === 421) throw session.fail(serviceUnavailable("(end of data)", final, "data"));
  if (final.code !== 250) throw messageError("(end of data)", final, "data");
  session.messagesSent++;
  return { messageId: message.messageId, accepted, rejected, response: replyText(final), envelope };
}

async function abandonData(session: SmtpSession): Promise<void> {
  await session.write(new TextEncoder().encode(".\r\n"));
  await session.readReply(session.options.timeouts.command);
}

async function writeBody(
  session: SmtpSession,
  message: ComposedMessage,
  onProgress?: (progress: SendProgress) => void,
): Promise<void> {
  const stuffer = new DotStuffer();
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    let bytes: Uint8Array;
    if (pending.length === 1) {
      bytes = pending[0] as Uint8Array;
    } else {
      bytes = new Uint8Array(pendingBytes);
      let at = 0;
      for (const part of pending) {
        bytes.set(part, at);
        at += part.length;
      }
    }
    pending = [];
    pendingBytes = 0;
    await session.write(bytes);
  };
  for (const chunk of message.chunks()) {
    const stuffed = stuffer.stuff(chunk);
    pending.push(stuffed);
    pendingBytes += stuffed.length;
    written += chunk.length;
    if (pendingBytes >= COALESCE) {
      await flush();
      onProgress?.({ written, total: message.size });
    }
  }
  pending.push(stuffer.terminator());
  pendingBytes += pending[pending.length - 1]!.length;
  await flush();
  onProgress?.({ written, total: message.size });
}
