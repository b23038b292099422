/**
 * {@link buildMessage}: the exact bytes a transport would send for a message (before
 * dot-stuffing), DKIM signature included when asked for, without connecting anywhere.
 * Also the one preparation step that `send()` shares with it.
 *
 * @module
 */

import { DkimSigner } from "../dkim/sign.ts";
import type { DkimOptions } from "../dkim/options.ts";
import { SmtpValidationError } from "../errors.ts";
import type { ComposedMessage, Envelope, MailMessage } from "../message.ts";
import { composeWithInfo, type ComposeOptions } from "./compose.ts";

/** Options for {@link buildMessage}. */
export interface BuildOptions extends ComposeOptions {
  /** Sign the message (the same option a transport takes). */
  dkim?: DkimOptions;
}

/** A message built for preview: the bytes `send()` would put after DATA, before dot-stuffing. */
export interface BuiltMessage {
  /** The Message-ID header value, with angle brackets. */
  messageId: string;
  /** The envelope (MAIL FROM, RCPT TO). */
  envelope: Envelope;
  /** Exact size in octets. */
  size: number;
  /**
   * The bytes as a new stream on each call. With a `ReadableStream` attachment the
   * message can be read only once, by any of `stream()`, `text()` or `bytes()`.
   */
  stream(): ReadableStream<Uint8Array>;
  /** The whole message as text (it is ASCII unless raw UTF-8 headers were needed). */
  text(): Promise<string>;
  /** The whole message as bytes. */
  bytes(): Promise<Uint8Array>;
}

/**
 * Composes and, with a signer, DKIM-signs a message. A message with a stream attachment
 * cannot be signed (the body would have to be read twice) and is refused. Without a signer
 * the result is returned as is, not as a promise: a send then waits for nothing here.
 *
 * @param message the caller's message
 * @param compose the default sender and date
 * @param signer signs when given
 * @param time the signature time (now by default)
 * @throws {SmtpValidationError} naming the bad field, before anything is sent
 */
export function prepareMessage(
  message: MailMessage,
  compose: ComposeOptions,
  signer?: DkimSigner,
  time?: Date,
): ComposedMessage | Promise<ComposedMessage> {
  const { message: composed, streamedField } = composeWithInfo(message, compose);
  if (signer === undefined) return composed;
  if (streamedField !== undefined) {
    throw new SmtpValidationError(
      streamedField,
      "a ReadableStream cannot be sent with DKIM signing, which reads the body before sending it; give a Uint8Array",
      "EATTACHMENT",
    );
  }
  return signer.sign(composed, time);
}

// Transient: both readers below copy each chunk before they ask for the next.
function source(message: ComposedMessage): AsyncIterable<Uint8Array> {
  if (message.stream) return message.stream(true);
  const chunks = message.chunks(true);
  return (async function* (): AsyncGenerator<Uint8Array, void, undefined> {
    yield* chunks;
  })();
}

function toReadableStream(message: ComposedMessage): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller): Promise<void> {
      iterator ??= source(message)[Symbol.asyncIterator]();
      const next = await iterator.next();
      // A copy: the composer's own buffers are reused when the message is read again.
      if (next.done) controller.close();
      else controller.enqueue(next.value.slice());
    },
    async cancel(reason): Promise<void> {
      await iterator?.return?.(reason);
    },
  });
}

async function readAll(message: ComposedMessage): Promise<Uint8Array> {
  const out = new Uint8Array(message.size);
  let at = 0;
  for await (const chunk of source(message)) {
    if (at + chunk.length > out.length) throw new Error("internal: the message is longer than its announced size");
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== out.length) throw new Error("internal: the message is shorter than its announced size");
  return out;
}

/**
 * The implementation of the public `buildMessage` (src/engine-loader.ts, which loads this
 * module on first use and documents the behaviour).
 *
 * @throws {SmtpValidationError} naming the bad field
 */
export async function buildMessage(message: MailMessage, options: BuildOptions = {}): Promise<BuiltMessage> {
  const { dkim, ...compose } = options ?? {};
  const signer = dkim === undefined ? undefined : new DkimSigner(dkim);
  const composed = await prepareMessage(message, compose, signer, compose.date);
  return {
    messageId: composed.messageId,
    envelope: composed.envelope,
    size: composed.size,
    stream: () => toReadableStream(composed),
    bytes: () => readAll(composed),
    text: async () => new TextDecoder().decode(await readAll(composed)),
  };
}
