/**
 * The public entry of the core: a transport turns options into sessions, sends messages
 * one at a time over a reused connection, verifies credentials and closes cleanly.
 *
 * @module
 */

import { dkimOptionsOf, resolveDkim, type DkimOptions } from "./dkim/options.ts";
import type { TransportEngine } from "./engine.ts";
import { loadEngine } from "./engine-loader.ts";
import { SmtpAbortError, type SmtpError, SmtpValidationError } from "./errors.ts";
import { checkMessageLimits } from "./limits.ts";
import type { MailMessage } from "./message.ts";
import { resolveOptions, type AuthMethod, type Encryption, type ResolvedOptions, type TransportOptions } from "./options.ts";
import type { Connector, TlsInfo } from "./socket.ts";
import type { SendProgress, SendReceipt } from "./transaction.ts";

/** Per-call options of {@link Transport.send} and {@link Transport.verify}. */
export interface CallOptions {
  /** Cancels the call; the connection is destroyed. */
  signal?: AbortSignal;
  /** Overall deadline in milliseconds for this call, queueing included. */
  timeout?: number;
}

/** Per-call options of {@link Transport.send}. */
export interface SendOptions extends CallOptions {
  /** Called as the message body is written. */
  onProgress?: (progress: SendProgress) => void;
}

/** What {@link Transport.verify} learned about the server. */
export interface VerifyReport {
  /** Host dialled. */
  host: string;
  /** Port dialled. */
  port: number;
  /** Encryption mode used. */
  encryption: Encryption;
  /** Whether the session was encrypted. */
  secure: boolean;
  /** TLS facts, when encrypted. */
  tls?: TlsInfo;
  /** The name the server gave in its EHLO reply. */
  serverName: string;
  /** The greeting text. */
  greeting: string;
  /** Whether credentials were given and accepted. */
  authenticated: boolean;
  /** The mechanism that authenticated. */
  authMethod?: AuthMethod;
  /** Mechanisms the server offers. */
  authMechanisms: string[];
  /** The server's SIZE limit in octets (0: advertised without a limit). */
  sizeLimit?: number;
  /** Every EHLO extension with its parameters. */
  extensions: Record<string, string[]>;
}

/** A configured SMTP client. */
export interface Transport {
  /**
   * Composes, validates, DKIM-signs (with the `dkim` option) and sends a message. Validation
   * errors come before any connection.
   */
  send(message: MailMessage, options?: SendOptions): Promise<SendReceipt>;
  /** Connects, negotiates TLS and authenticates, then reports what the server offers. */
  verify(options?: CallOptions): Promise<VerifyReport>;
  /** Ends the connection (QUIT); waits for sends in progress. */
  close(): Promise<void>;
  /** Same as {@link Transport.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createTransport} in the core, where the connector must be given. */
export interface CoreTransportOptions extends TransportOptions {
  /** DKIM-sign every message (RFC 6376); validated here, the PEM key imported on first send. */
  dkim?: DkimOptions;
  /** Opens sockets for the current runtime. */
  connector: Connector;
}

// A call without a signal or a timeout shares this one (nothing to release).
const NO_CALL_SIGNAL: { signal?: AbortSignal; done(): void } = Object.freeze({ done() {} });

/** Combines the caller's signal with an overall timeout; `done()` releases the timer. */
function callSignal(options: CallOptions, phaseHint: string): { signal?: AbortSignal; done(): void } {
  const { signal, timeout } = options;
  if (timeout === undefined) return signal ? { signal, done() {} } : NO_CALL_SIGNAL;
  if (typeof timeout !== "number" || !Number.isFinite(timeout) || timeout <= 0) {
    throw new SmtpValidationError("timeout", "must be a positive number of milliseconds");
  }
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`${phaseHint} did not finish within ${timeout} ms`, "TimeoutError"));
  }, timeout);
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    },
  };
}

// Options are checked here, synchronously; everything that talks to a server or composes a
// message lives in TransportEngine, loaded on the first send() or verify().
class SmtpTransport implements Transport {
  readonly #options: ResolvedOptions;
  readonly #connector: Connector;
  readonly #dkim: DkimOptions | undefined;
  readonly #active = new Set<Promise<unknown>>();
  #engine: TransportEngine | undefined;
  #closed = false;

  constructor(options: ResolvedOptions, connector: Connector, dkim: DkimOptions | undefined) {
    this.#dkim = dkim;
    this.#options = options;
    this.#connector = connector;
  }

  async #load(): Promise<TransportEngine> {
    const { TransportEngine } = await loadEngine();
    // Closed while the engine loaded: nothing was opened, and nothing will be.
    if (this.#closed) throw closedError();
    return (this.#engine ??= new TransportEngine(this.#options, this.#connector, this.#dkim));
  }

  async send(message: MailMessage, options: SendOptions = {}): Promise<SendReceipt> {
    if (this.#closed) throw closedError();
    checkMessageLimits(message, this.#options.limits);
    const engine = this.#engine ?? (await this.#load());
    // Composed (and signed, with dkim) before any connection: bad input fails here.
    // Without DKIM the message is composed synchronously: no promise to wait for.
    const prepared = engine.prepare(message);
    const composed = prepared instanceof Promise ? await prepared : prepared;
    if (options.onProgress !== undefined && typeof options.onProgress !== "function") {
      throw new SmtpValidationError("onProgress", "must be a function");
    }
    const call = callSignal(options, "Sending");
    const work = engine.send(composed, call.signal, options.onProgress);
    this.#active.add(work);
    try {
      return await work;
    } finally {
      this.#active.delete(work);
      call.done();
    }
  }

  async verify(options: CallOptions = {}): Promise<VerifyReport> {
    if (this.#closed) throw closedError();
    const call = callSignal(options, "Verification");
    try {
      const engine = this.#engine ?? (await this.#load());
      return await engine.verify(call.signal);
    } finally {
      call.done();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#active]);
    // No engine: no session was ever opened, nothing to close.
    await this.#engine?.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function closedError(): SmtpError {
  return new SmtpAbortError("Transport is closed", { code: "ECLOSED", retryable: false, phase: "connect" });
}

/**
 * Creates a transport. In the core the connector must be given; the package entries
 * (`@nina/smtp`, `@nina/smtp/node`, …) supply the runtime's connector.
 *
 * @example
 * ```ts
 * const smtp = createTransport({ host: "smtp.example.com", auth: { username, password }, connector });
 * await smtp.send({ to: "ada@example.com", subject: "Hi", text: "Hello" });
 * await smtp.close();
 * ```
 */
export function createTransport(options: CoreTransportOptions): Transport {
  const connector = options?.connector;
  if (!connector || typeof connector.connect !== "function") {
    throw new SmtpValidationError("connector", "must be a connector (import createTransport from a runtime entry such as @nina/smtp/node)");
  }
  const resolved = resolveOptions(options);
  // Own property only, like every other option; validated now, the PEM imported on first send.
  const dkim = Object.prototype.hasOwnProperty.call(options, "dkim") ? options.dkim : undefined;
  return new SmtpTransport(resolved, connector, dkim === undefined ? undefined : dkimOptionsOf(resolveDkim(dkim)));
}
