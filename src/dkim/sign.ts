/**
 * DKIM signing (RFC 6376 §5): relaxed/relaxed canonicalisation, SHA-256, RSA or Ed25519
 * (RFC 8463). The body hash is computed while the composed message streams past, so memory
 * stays bounded whatever the attachments weigh; then the DKIM-Signature field is put in
 * front of the message and the size grows by exactly its length.
 *
 * @module
 */

import type { ComposedMessage } from "../message.ts";
import { toBase64 } from "../mime/base64.ts";
import { isSynchronous, markSynchronous } from "../mime/stream.ts";
import { RelaxedBody, relaxedHeader } from "./canonical.ts";
import { HeaderSplitter, splitFields, type HeaderField } from "./header-section.ts";
import { importPrivateKey, parsePrivateKeyPem, signData, type DkimAlgorithm } from "./key.ts";
import { resolveDkim, type DkimOptions, type ResolvedDkim } from "./options.ts";
import { Sha256 } from "./sha256.ts";

const encoder = new TextEncoder();
// Base64 characters per folded line of b= (and the longest h= piece).
const PIECE = 70;

function latin1Bytes(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** The signed header fields (RFC 6376 §5.4.2): every instance of each name, bottom-up. */
function selectFields(fields: readonly HeaderField[], names: readonly string[]): { names: string[]; fields: HeaderField[] } {
  const picked: HeaderField[] = [];
  const listed: string[] = [];
  for (const name of names) {
    for (let i = fields.length - 1; i >= 0; i--) {
      if (fields[i]!.name === name) {
        picked.push(fields[i]!);
        listed.push(name);
      }
    }
  }
  return { names: listed, fields: picked };
}

/** Splits `text` into pieces of at most `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The `h=` tag as tokens that fold after a colon when the list is long. */
function hTokens(names: readonly string[]): string[] {
  const tokens: string[] = [];
  let current = "h=";
  names.forEach((name, i) => {
    const part = name + (i < names.length - 1 ? ":" : ";");
    if (current !== "h=" && current.length + part.length > PIECE) {
      tokens.push(current);
      current = "";
    }
    current += part;
  });
  tokens.push(current);
  return tokens;
}

/** Joins tokens into a header field folded before a token that would pass 76 columns. */
function fold(name: string, tokens: readonly string[]): string {
  let out = name + ":";
  let line = out.length;
  for (const token of tokens) {
    if (line + 1 + token.length > 76 && line > name.length + 1) {
      out += "\r\n " + token;
      line = 1 + token.length;
    } else {
      out += " " + token;
      line += 1 + token.length;
    }
  }
  return out + "\r\n";
}

/** What {@link DkimSigner.sign} learned from reading the message. */
interface Digest {
  bodyHash: string;
  fields: HeaderField[];
}

function digestMessage(message: ComposedMessage): Digest {
  const hash = new Sha256();
  const body = new RelaxedBody((bytes) => hash.update(bytes));
  const splitter = new HeaderSplitter((bytes) => body.update(bytes));
  let total = 0;
  // Transient: every chunk is hashed (or copied, for the header) before the next is made.
  for (const chunk of message.chunks(true)) {
    total += chunk.length;
    splitter.push(chunk);
  }
  if (total !== message.size) throw new Error(`internal: the message yielded ${total} octets, not the announced ${message.size}`);
  body.finish();
  return { bodyHash: toBase64(hash.digest()), fields: splitFields(splitter.header()) };
}

/**
 * Signs composed messages for one domain and selector. Create it with the `dkim` options;
 * the options are validated at once, a PEM key is imported on first use. The key never
 * appears in an error, in JSON or when the signer is inspected.
 */
export class DkimSigner {
  readonly #config: Omit<ResolvedDkim, "key">;
  #pending: ResolvedDkim["key"] | undefined;
  #key: Promise<CryptoKey> | undefined;

  /**
   * @param options the `dkim` options
   * @throws {SmtpValidationError} naming the bad field (`dkim.privateKey`, …)
   */
  constructor(options: DkimOptions) {
    const { key, ...config } = resolveDkim(options);
    this.#config = config;
    this.#pending = key;
  }

  /** The signing domain (`d=`). */
  get domainName(): string {
    return this.#config.domainName;
  }

  /** The selector (`s=`). */
  get keySelector(): string {
    return this.#config.keySelector;
  }

  /** The algorithm (`a=`). */
  get algorithm(): DkimAlgorithm {
    return this.#config.algorithm;
  }

  /** The header fields signed when present (`h=`), in lower case. */
  get headerFields(): readonly string[] {
    return [...this.#config.headerFields];
  }

  #cryptoKey(): Promise<CryptoKey> {
    if (this.#key === undefined) {
      const source = this.#pending!;
      this.#key =
        source.kind === "crypto"
          ? Promise.resolve(source.key)
          : importPrivateKey(parsePrivateKeyPem(source.pem.reveal(), "dkim.privateKey"), "dkim.privateKey");
      // Once imported, the PEM is no longer kept; a failed import keeps failing the same way.
      this.#pending = undefined;
    }
    return this.#key;
  }

  /**
   * Returns `message` with a DKIM-Signature field in front: the same bytes otherwise, and a
   * size larger by exactly the field's length. The message is read once here (through
   * `chunks()`, so it must be repeatable: not one with a stream attachment) and again
   * when the result is read.
   *
   * @param message a composed message
   * @param time the signature time, `t=` (now by default)
   * @throws {SmtpValidationError} if a PEM key cannot be imported
   */
  async sign(message: ComposedMessage, time: Date = new Date()): Promise<ComposedMessage> {
    const key = await this.#cryptoKey();
    const { bodyHash, fields } = digestMessage(message);
    const { domainName, keySelector, algorithm, headerFields } = this.#config;
    const selected = selectFields(fields, headerFields);
    const tags = [
      "v=1;",
      `a=${algorithm};`,
      "c=relaxed/relaxed;",
      `d=${domainName};`,
      `s=${keySelector};`,
      `t=${Math.floor(time.getTime() / 1000)};`,
      ...hTokens(selected.names),
      `bh=${bodyHash};`,
    ];
    // RFC 6376 §3.7: the signed data is the selected fields, then this field with an empty
    // b= and no final CRLF. Relaxed canonicalisation erases folding, so it can be taken
    // from the unfolded text.
    let data = "";
    for (const field of selected.fields) data += relaxedHeader(field.text);
    data += relaxedHeader(`DKIM-Signature: ${tags.join(" ")} b=`, false);
    const signature = toBase64(await signData(algorithm, key, latin1Bytes(data)));
    const [first, ...rest] = pieces(signature, PIECE);
    const head = encoder.encode(fold("DKIM-Signature", [...tags, `b=${first ?? ""}`, ...rest]));
    return prepend(message, head);
  }

  /** Never shows the key. */
  toJSON(): Record<string, string> {
    return { domainName: this.domainName, keySelector: this.keySelector, algorithm: this.algorithm };
  }
}

/** `message` with `head` before its bytes. */
function prepend(message: ComposedMessage, head: Uint8Array): ComposedMessage {
  const inner = message;
  const signed: ComposedMessage = {
    ...inner,
    size: head.length + inner.size,
    *chunks(transient?: boolean): Generator<Uint8Array, void, undefined> {
      yield head;
      yield* inner.chunks(transient);
    },
    async *stream(transient?: boolean): AsyncGenerator<Uint8Array, void, undefined> {
      yield head;
      if (inner.stream) yield* inner.stream(transient);
      else yield* inner.chunks(transient);
    },
  };
  return isSynchronous(inner) ? markSynchronous(signed) : signed;
}
