/**
 * One mail transaction (RFC 5321 §3.3): MAIL FROM, RCPT TO for each recipient, DATA and
 * the dot-stuffed body. With PIPELINING (RFC 2920) the envelope and DATA go out in one
 * write and the replies are matched in order. The MAIL FROM and RCPT TO parameters follow
 * the message and the server's extensions: SIZE, SMTPUTF8 and BODY=8BITMIME for UTF-8
 * addresses (RFC 6531, RFC 6152), and the DSN request (RFC 3461).
 *
 * @module
 */

import type { SmtpSession } from "./client.ts";
import { indeterminate, serviceUnavailable, unexpectedReply } from "./classify.ts";
import {
  SmtpEnvelopeError,
  SmtpError,
  SmtpMessageError,
  isTransientReply,
  type RecipientRejection,
  type SmtpErrorCode,
} from "./errors.ts";
import { orcptValue } from "./dsn.ts";
import type { ComposedMessage, Envelope } from "./message.ts";
import type { Capabilities } from "./protocol/capabilities.ts";
import { commandBytes, mailCommand, rcptCommand, type MailParams, type RcptParams } from "./protocol/commands.ts";
import { isDotFree, isSynchronous, PASS_THROUGH } from "./mime/stream.ts";
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
  /**
   * Present only when the message asked for delivery status notifications: true when they
   * were requested from the server, false when the server does not offer DSN and the
   * message went without them.
   */
  dsn?: boolean;
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

/** The MAIL FROM and RCPT TO lines for `message` on a server with `caps`. */
interface EnvelopeCommands {
  mail: string;
  rcpts: string[];
  /** Whether the DSN request went into the commands (undefined: none was made). */
  dsn?: boolean;
}

function listAddresses(addresses: readonly string[]): string {
  const shown = addresses.slice(0, 3).map((a) => `<${a}>`).join(", ");
  return addresses.length > 3 ? `${shown} and ${addresses.length - 3} more` : shown;
}

/**
 * Builds the envelope commands, or refuses before anything is sent when the message
 * needs an extension the server lacks: SMTPUTF8 for a non-ASCII local part (RFC 6531
 * §3.4), 8BITMIME for 8-bit content otherwise (RFC 6152 §3).
 *
 * @throws {SmtpEnvelopeError} ESMTPUTF8, naming the addresses
 * @throws {SmtpMessageError} EMESSAGE for 8-bit content without 8BITMIME
 */
function envelopeCommands(message: ComposedMessage, caps: Capabilities): EnvelopeCommands {
  const { envelope } = message;
  const utf8 = message.utf8Addresses ?? [];
  const smtpUtf8 = utf8.length > 0;
  if (smtpUtf8 && !caps.has("SMTPUTF8")) {
    const plural = utf8.length > 1;
    throw new SmtpEnvelopeError(
      `The server does not offer SMTPUTF8, which ${plural ? "the addresses" : "the address"} ${listAddresses(utf8)} with a non-ASCII local part ${plural ? "need" : "needs"}`,
      {
        code: "ESMTPUTF8", retryable: false, phase: "envelope",
        hint: "Use an ASCII local part (a non-ASCII domain alone is fine: it is sent as an A-label), or a server that supports SMTPUTF8 (RFC 6531)",
      },
    );
  }
  // SMTPUTF8 itself allows UTF-8 headers (RFC 6531 §3.4); 8BITMIME is declared whenever the
  // bytes are 8-bit and the server offers it, and required when SMTPUTF8 is not in use.
  const eightBit = message.eightBit === true;
  if (eightBit && !smtpUtf8 && !caps.has("8BITMIME")) {
    throw new SmtpMessageError("The message has 8-bit content and the server does not offer 8BITMIME", {
      code: "EMESSAGE", retryable: false, phase: "envelope",
      hint: "Send it through a server that supports 8BITMIME (RFC 6152)",
    });
  }
  const dsn = message.dsn && caps.has("DSN") ? message.dsn : undefined;
  const mailParams: MailParams = {};
  if (caps.has("SIZE")) mailParams.size = message.size;
  if (eightBit && caps.has("8BITMIME")) mailParams.body = "8BITMIME";
  if (smtpUtf8) mailParams.smtpUtf8 = true;
  if (dsn?.ret) mailParams.ret = dsn.ret;
  if (dsn?.envid) mailParams.envid = dsn.envid;
  const rcpts = envelope.to.map((address) => {
    const params: RcptParams = {};
    if (dsn?.notify) params.notify = dsn.notify;
    if (dsn?.orcpt) params.orcpt = orcptValue(address);
    return rcptCommand(address, params);
  });
  const commands: EnvelopeCommands = { mail: mailCommand(envelope.from, mailParams), rcpts };
  if (message.dsn) commands.dsn = dsn !== undefined;
  return commands;
}

/**
 * Sends one composed message on an open session. Several transactions may run on one
 * session at once: each holds the write side only while its own bytes go out, and reads
 * its replies in turn, so with PIPELINING the next message's envelope follows this one's
 * body without waiting for the reply, and with CHUNKING (RFC 3030) the whole message
 * goes out in one write. `endWithQuit`, asked just before the end marker goes out, may
 * return QUIT to send with it (see `SessionPool.quitWithLastWrite`).
 */
export async function sendTransaction(
  session: SmtpSession,
  message: ComposedMessage,
  onProgress?: (progress: SendProgress) => void,
  endWithQuit?: () => Uint8Array | undefined,
): Promise<SendReceipt> {
  const caps = session.capabilities;
  const { envelope } = message;
  const limit = caps.sizeLimit;
  if (limit && message.size > limit) {
    throw new SmtpMessageError(`Message is ${message.size} bytes; the server accepts at most ${limit}`, {
      code: "ESIZE", retryable: false, phase: "envelope",
      hint: "Reduce the message size (attachments) below the server's SIZE limit",
    });
  }
  const pipelining = caps.has("PIPELINING");
  const chunking = caps.has("CHUNKING");
  const { mail, rcpts, dsn } = envelopeCommands(message, caps);
  const timeout = session.options.timeouts.command;

  const unlock = await session.lockWrites();
  let ended = false; // the end marker (final dot or BDAT LAST) went out
  try {
    session.setPhase("envelope");
    // RFC 5321 §4.1.1.5: a failed or unfinished transaction before this one is reset first.
    const reset = session.transactionState !== "clean";
    const skip = reset ? 1 : 0; // replies before MAIL FROM's
    session.transactionState = "unknown";
    // The envelope lines, then (pipelined) BDAT or DATA: the command lines of one write.
    const lines = reset ? ["RSET", mail, ...rcpts] : [mail, ...rcpts];
    const envelopeCount = lines.length;
    if (chunking && pipelining) {
      // Envelope, BDAT and the body in one write; no dot-stuffing with BDAT.
      lines.push(`BDAT ${message.size} LAST`);
      await writeMessage(session, commandBytes(...lines), message, false, onProgress, lines, endWithQuit);
      ended = true;
      session.transactionState = "clean";
      unlock();
      const replies = await session.expect(envelopeCount + 1, session.options.timeouts.data, "the server to accept the message");
      const { accepted, rejected } = checkEnvelope(session, replies, skip, envelopeCount, envelope);
      return finish(session, message, replies[envelopeCount] as SmtpReply, accepted, rejected, "BDAT", dsn);
    }
    let envelopeReplies: SmtpReply[];
    let first = 0; // where MAIL FROM's reply is in envelopeReplies
    let dataReply: SmtpReply | undefined;
    if (pipelining) {
      lines.push("DATA");
      await session.writeCommands(lines);
      envelopeReplies = await session.expect(envelopeCount + 1, timeout);
      first = skip;
      dataReply = envelopeReplies[envelopeCount];
    } else {
      if (reset) await session.command("RSET");
      envelopeReplies = [await session.command(mail)];
      if (envelopeReplies[0]!.code === 250) {
        for (const rcpt of rcpts) {
          const reply = await session.command(rcpt);
          envelopeReplies.push(reply);
          if (reply.code === 421) break;
        }
      }
    }
    let checked: { accepted: string[]; rejected: RecipientRejection[] };
    try {
      // Without PIPELINING the replies stop at a refused MAIL FROM or a 421.
      checked = checkEnvelope(session, envelopeReplies, first, pipelining ? envelopeCount : envelopeReplies.length, envelope);
    } catch (error) {
      // RFC 2920 §3.1: a 354 to the pipelined DATA after refusals gets an empty body.
      if (dataReply?.code === 354) await session.write(commandBytes("."), 1);
      if (dataReply?.code === 354) await session.expect(1, timeout);
      session.transactionState = "dirty";
      throw error;
    }
    session.setPhase("data");
    if (chunking) {
      const bdat = `BDAT ${message.size} LAST`;
      await writeMessage(session, commandBytes(bdat), message, false, onProgress, [bdat], endWithQuit);
      ended = true;
      session.transactionState = "clean";
      unlock();
      const [final] = await session.expect(1, session.options.timeouts.data, "the server to accept the message");
      return finish(session, message, final as SmtpReply, checked.accepted, checked.rejected, "BDAT", dsn);
    }
    dataReply ??= await session.command("DATA");
    if (dataReply.code >= 200 && dataReply.code < 300) {
      throw session.fail(unexpectedReply("DATA", dataReply, "data"));
    }
    if (dataReply.code !== 354) {
      session.transactionState = "dirty";
      if (dataReply.code === 421) throw session.fail(serviceUnavailable("DATA", dataReply, "data"));
      throw messageError("DATA", dataReply, "data");
    }
    await writeMessage(session, undefined, message, true, onProgress, [], endWithQuit);
    ended = true;
    // The end of data closes the transaction whatever the reply (RFC 5321 §4.1.1.4).
    session.transactionState = "clean";
    unlock();
    const [final] = await session.expect(1, session.options.timeouts.data, "the server to accept the message");
    return finish(session, message, final as SmtpReply, checked.accepted, checked.rejected, "(end of data)", dsn);
  } catch (error) {
    // Lost after the end marker with no reply from the server: the outcome is unknown.
    const failure = session.failure;
    if (ended && failure && error === failure && failure.replyCode === undefined) throw indeterminate(failure);
    throw error;
  } finally {
    unlock();
  }
}

/**
 * Sorts RCPT replies into accepted and refused; throws when the sender or every recipient
 * was refused. The envelope's replies are `replies[first]` (MAIL FROM) to `replies[end - 1]`.
 */
function checkEnvelope(
  session: SmtpSession,
  replies: readonly SmtpReply[],
  first: number,
  end: number,
  envelope: Envelope,
): { accepted: string[]; rejected: RecipientRejection[] } {
  for (let i = first; i < end; i++) {
    const reply = replies[i] as SmtpReply;
    if (reply.code === 421) throw session.fail(serviceUnavailable(i === first ? "MAIL FROM" : "RCPT TO", reply, "envelope"));
  }
  const mailReply = replies[first];
  if (first >= end || !mailReply || mailReply.code !== 250) throw senderError(mailReply as SmtpReply, envelope.from);
  const accepted: string[] = [];
  const rejected: RecipientRejection[] = [];
  for (let i = first + 1; i < end; i++) {
    const reply = replies[i] as SmtpReply;
    const address = envelope.to[i - first - 1] as string;
    if (reply.code === 250 || reply.code === 251) accepted.push(address);
    else rejected.push({ address, ...replyInfo(reply), retryable: isTransientReply(reply.code) });
  }
  if (accepted.length === 0) {
    const refusal = rejected[0];
    throw new SmtpEnvelopeError(
      `All ${rejected.length} recipient(s) rejected${refusal ? `: ${refusal.code} ${refusal.message}` : ""}`,
      {
        code: "ERECIPIENTS", retryable: rejected.every((r) => r.retryable), phase: "envelope", command: "RCPT TO",
        ...(refusal ? { reply: refusal } : {}),
        hint: "Check the recipient addresses; the server's reply for each is in rejected",
      },
      rejected,
    );
  }
  return { accepted, rejected };
}

function finish(
  session: SmtpSession,
  message: ComposedMessage,
  final: SmtpReply,
  accepted: string[],
  rejected: RecipientRejection[],
  command: string,
  dsn: boolean | undefined,
): SendReceipt {
  if (final.code === 421) throw session.fail(serviceUnavailable(command, final, "data"));
  if (final.code !== 250) throw messageError(command, final, "data");
  const response = replyText(final);
  const { messageId, envelope } = message;
  // Two literals rather than a property added afterwards: each keeps one lasting object shape.
  return dsn === undefined
    ? { messageId, accepted, rejected, response, envelope }
    : { messageId, accepted, rejected, response, envelope, dsn };
}

/**
 * Writes `head` (commands, if any) and the message, coalesced into writes of about
 * 64 KiB; with `stuff` the body is dot-stuffed and ends with the end-of-data marker.
 * The message is read `transient`: a large chunk is written before the next is asked for,
 * because its buffer is then reused (the socket is done with bytes once write() resolves).
 */
async function writeMessage(
  session: SmtpSession,
  head: Uint8Array | undefined,
  message: ComposedMessage,
  stuff: boolean,
  onProgress?: (progress: SendProgress) => void,
  logLines: string[] = [],
  endWithQuit?: () => Uint8Array | undefined,
): Promise<void> {
  session.logClient(logLines);
  // One reply per command line in `head` (BDAT included), or one for the final dot.
  let replies = stuff ? 1 : logLines.length;
  const stuffer = stuff ? new DotStuffer() : undefined;
  let pending: Uint8Array[] = head ? [head] : [];
  let pendingBytes = head?.length ?? 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const bytes = pending.length === 1 ? (pending[0] as Uint8Array) : concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    const owed = replies;
    replies = 0;
    await session.write(bytes, owed);
    onProgress?.({ written, total: message.size });
  };
  const take = async (chunk: Uint8Array): Promise<void> => {
    const out = stuffer ? stuffer.stuff(chunk, isDotFree(chunk)) : chunk;
    // A big chunk goes out on its own rather than being copied into a joined buffer.
    if (pendingBytes > 0 && pendingBytes + out.length > COALESCE) await flush();
    pending.push(out);
    pendingBytes += out.length;
    written += chunk.length;
    if (pendingBytes >= COALESCE || chunk.length >= PASS_THROUGH) await flush();
  };
  if (isSynchronous(message)) {
    // No stream attachment: the same bytes from chunks(), without async generators.
    for (const chunk of syncMessageBytes(session, message)) await take(chunk);
  } else {
    for await (const chunk of messageBytes(session, message)) await take(chunk);
  }
  if (stuffer) {
    const end = stuffer.terminator();
    pending.push(end);
    pendingBytes += end.length;
  }
  const quit = endWithQuit?.();
  if (quit) {
    pending.push(quit);
    pendingBytes += quit.length;
    replies++;
  }
  await flush();
}

/**
 * The message's bytes: `stream()` when offered (streamed attachments), else `chunks()`.
 * A failure while producing them ends the session: part of the body is already on the
 * wire, so the end marker must never follow it.
 */
async function* messageBytes(session: SmtpSession, message: ComposedMessage): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    if (message.stream) yield* message.stream(true);
    else yield* message.chunks(true);
  } catch (error) {
    throw readFailure(session, error);
  }
}

/** {@link messageBytes} for a message whose `chunks()` can be read. */
function* syncMessageBytes(session: SmtpSession, message: ComposedMessage): Generator<Uint8Array, void, undefined> {
  try {
    yield* message.chunks(true);
  } catch (error) {
    throw readFailure(session, error);
  }
}

function readFailure(session: SmtpSession, error: unknown): SmtpError {
  const failure = error instanceof SmtpError
    ? error
    : new SmtpMessageError(`Reading the message failed: ${error instanceof Error ? error.message : String(error)}`, {
      code: "EMESSAGE", retryable: false, phase: "data", cause: error,
    });
  return session.fail(failure);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
