/**
 * One SMTP session over one socket: connect, greeting, EHLO (HELO fallback), STARTTLS,
 * AUTH, transactions, RSET and QUIT. Every wait has a deadline; a deadline, an abort or a
 * protocol violation destroys the socket, and the session stays failed with that error.
 *
 * @module
 */

import { authenticate } from "./auth.ts";
import { fromAbortReason, toSmtpError, tlsModeHint, serviceUnavailable, unexpectedReply, type FailureContext } from "./classify.ts";
import {
  SmtpAbortError,
  SmtpError,
  SmtpProtocolError,
  SmtpTimeoutError,
  SmtpTlsError,
  type SmtpPhase,
} from "./errors.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import type { ResolvedOptions } from "./options.ts";
import { Capabilities } from "./protocol/capabilities.ts";
import { commandBytes, helloCommand } from "./protocol/commands.ts";
import { ReplyFormatError, ReplyReader } from "./protocol/reply-reader.ts";
import type { SmtpReply } from "./protocol/reply.ts";
import { SocketError, type Connector, type SmtpSocket, type TlsInfo, type TlsMode } from "./socket.ts";

/** How a command is written to the transcript. */
export interface CommandOptions {
  /** Deadline for the reply; the command timeout by default. */
  timeout?: number;
  /** What the transcript shows instead of the line (for secrets). */
  logAs?: string;
}

const TLS_MODES: Record<ResolvedOptions["encryption"], TlsMode> = { tls: "on", starttls: "starttls", none: "off" };
// A TLS record starts with 0x14-0x17 then 0x03: what a plaintext client sees from an implicit-TLS port.
const TLS_RECORD = /^[\x14-\x17]\x03/;
// setTimeout's longest delay; a longer one would fire at once.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * One wait in progress: when it times out (a {@link performance.now} time) and, for a wait
 * that is not otherwise ended by a session failure, how to reject it.
 */
interface Wait {
  at: number;
  ms: number;
  what: string;
  reject?: (error: SmtpError) => void;
}

/** One {@link SmtpSession.expect} call waiting for its replies. */
interface ReplyWaiter {
  count: number;
  timeout: number;
  what: string;
  replies: SmtpReply[];
  resolve: (replies: SmtpReply[]) => void;
  reject: (error: SmtpError) => void;
}

/** A transaction waiting for the write side (see {@link SmtpSession.lockWrites}). */
interface LockWaiter {
  resolve: (unlock: () => void) => void;
  reject: (error: SmtpError) => void;
}

function ignore(): void {}

/** `start()`, with a synchronous throw turned into a rejection. */
function attempt<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** An open SMTP session. Use {@link SmtpSession.open}. */
export class SmtpSession {
  /** The server's EHLO capabilities (after STARTTLS when used). */
  capabilities: Capabilities = new Capabilities("", new Map());
  /** The greeting text. */
  greeting = "";
  /** The SASL mechanism that authenticated, when AUTH ran. */
  authMechanism?: string;
  /**
   * Whether the server is between transactions: `"clean"` (yes), `"dirty"` (a transaction
   * failed half-way) or `"unknown"` (one is in flight). Anything but clean needs RSET first.
   */
  transactionState: "clean" | "dirty" | "unknown" = "clean";

  readonly #options: ResolvedOptions;
  readonly #connector: Connector;
  #socket?: SmtpSocket;
  #reader: ReplyReader;
  #phase: SmtpPhase = "connect";
  #failure?: SmtpError;
  // Replies the server owes: the greeting, then one per command written (RFC 5321 §4.2).
  #awaiting = 1;
  #secrets: string[] = [];
  #justUpgraded = false;
  #closed = false;
  // QUIT went out with a transaction's last write (see pipelineQuit): quit() only reads the 221.
  #quitSent = false;
  // Every wait's deadline is served by one timer per session, re-armed only when a wait ends
  // sooner than the timer: a message costs no setTimeout/clearTimeout per read and write.
  // A failure rejects the waits that have `reject` (racing one shared promise instead would
  // keep one reaction per wait on it for the whole life of the session).
  readonly #waits = new Set<Wait>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  // expect() calls in order; one socket read at a time serves the first of them.
  #replyQueue: ReplyWaiter[] = [];
  #reading = false;
  // The deadline of the reply being read, from the read that found it missing to its last line.
  #readWait: Wait | undefined;
  // Whether a transaction holds the write side, and those waiting for it, in order.
  #writeLocked = false;
  #lockQueue: LockWaiter[] = [];

  /**
   * A session that never connects, kept for the life of the module for its object shape.
   * V8 keeps a shape (hidden class) only while some object has it, and throws away the
   * optimized code built on it when the last such object is collected. A transport per
   * batch or per request (a serverless function, a benchmark run) with a garbage collection
   * in between would otherwise lose the shape of its sessions every time, and recompile the
   * send path for each new transport. `ReplyReader.idle` and `SessionPool.idle` do the same.
   * The constructor reads only the limits.
   */
  static readonly idle: SmtpSession = new SmtpSession({ limits: DEFAULT_LIMITS } as ResolvedOptions, {} as Connector);

  private constructor(options: ResolvedOptions, connector: Connector) {
    this.#options = options;
    this.#connector = connector;
    this.#reader = this.#newReader();
  }

  /** Connects, reads the greeting, says EHLO, upgrades to TLS and authenticates as configured. */
  static async open(options: ResolvedOptions, connector: Connector, signal?: AbortSignal): Promise<SmtpSession> {
    const session = new SmtpSession(options, connector);
    await session.#guard(signal, () => session.#start(signal));
    return session;
  }

  /** True when the session can take another command. */
  get usable(): boolean {
    return !this.#failure && !this.#closed && !this.#quitSent;
  }

  /**
   * QUIT for the end of the caller's last write, which must also count its reply: QUIT may
   * end a pipelined group (RFC 2920 §3.1), so a session that would be closed after this
   * transaction anyway saves the round trip of saying it afterwards. From here on the
   * session takes no new transaction, and {@link quit} only reads the 221.
   */
  pipelineQuit(): Uint8Array {
    this.#quitSent = true;
    this.#log("client", "QUIT");
    return commandBytes("QUIT");
  }

  /** The error that ended the session, if any. */
  get failure(): SmtpError | undefined {
    return this.#failure;
  }

  /** Whether the connection is encrypted. */
  get secure(): boolean {
    return this.#socket?.secure ?? false;
  }

  /** Negotiated TLS facts, when encrypted. */
  get tlsInfo(): TlsInfo | undefined {
    return this.#socket?.secure ? this.#socket.tlsInfo?.() ?? {} : undefined;
  }

  /** Resolved options of this session. */
  get options(): ResolvedOptions {
    return this.#options;
  }

  /** Current phase, for classification. */
  get phase(): SmtpPhase {
    return this.#phase;
  }

  /** Sets the phase that failures are reported under. */
  setPhase(phase: SmtpPhase): void {
    this.#phase = phase;
  }

  /**
   * Runs `work` with the abort signal bound to this session: an abort destroys the socket
   * and `work` rejects with the abort error. Any failure leaves the session failed.
   */
  #guard<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    // Without a signal there is nothing to bind: only the error is mapped (no async frame).
    if (signal === undefined) return attempt(work).then(undefined, this.#rethrow);
    return this.#guardSignal(signal, work);
  }

  async #guardSignal<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    if (signal.aborted) throw this.fail(this.#abortError(signal));
    const onAbort = (): void => {
      this.fail(this.#abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      // Every wait inside `work` already ends when the session fails (see #wait), so `work`
      // settles promptly and can still turn a failure into a better error.
      return await work();
    } catch (error) {
      throw this.#guardError(error);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  // An SmtpError thrown without fail() ends only the transaction (a refused sender, say);
  // anything else (a socket error) ends the session.
  #guardError(error: unknown): SmtpError {
    if (error instanceof SmtpError) return error;
    if (this.#failure) return this.#failure;
    return this.fail(toSmtpError(error, this.#context()));
  }

  readonly #rethrow = (error: unknown): never => {
    throw this.#guardError(error);
  };

  #newReader(): ReplyReader {
    const { maxReplyLineLength, maxReplyLines } = this.#options.limits;
    return new ReplyReader({ maxLineLength: maxReplyLineLength, maxLines: maxReplyLines });
  }

  /** Runs session work under the caller's signal (used by transactions). */
  run<T>(signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
    return this.#guard(signal, work);
  }

  #abortError(signal: AbortSignal): SmtpError {
    return fromAbortReason(signal.reason, this.#phase, this.#greetingHint());
  }

  /** A greeting that never comes often means the port speaks implicit TLS. */
  #greetingHint(): string | undefined {
    return this.#phase === "greeting" && this.#options.encryption !== "tls"
      ? `If port ${this.#options.port} uses implicit TLS, try encryption "tls"`
      : undefined;
  }

  #context(): FailureContext {
    return {
      phase: this.#phase,
      encryption: this.#options.encryption,
      port: this.#options.port,
      host: this.#options.host,
      justUpgraded: this.#justUpgraded,
    };
  }

  /**
   * Ends the session with `error` (the first failure wins), destroys the socket and
   * rejects every wait in progress with it: replies, the write side, writes and connects.
   */
  fail(error: SmtpError): SmtpError {
    if (this.#failure) return this.#failure;
    this.#failure = error;
    this.#stopTimer();
    this.#socket?.abort(error);
    const waits = [...this.#waits];
    this.#waits.clear();
    this.#readWait = undefined;
    for (const wait of waits) wait.reject?.(error);
    for (const waiter of this.#replyQueue.splice(0)) waiter.reject(error);
    for (const waiter of this.#lockQueue.splice(0)) waiter.reject(error);
    return error;
  }

  /**
   * `work` within `ms` (when it takes longer, the session fails with a timeout error), ended
   * early by a session failure. A raw error from `work` (a socket reset, say) fails the session.
   */
  #wait<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
    if (this.#failure) {
      work.catch(ignore);
      return Promise.reject(this.#failure);
    }
    return new Promise<T>((resolve, reject) => {
      const wait: Wait = { at: performance.now() + ms, ms, what, reject };
      this.#waits.add(wait);
      this.#arm(wait.at);
      work.then(
        (value) => {
          this.#waits.delete(wait);
          resolve(value);
        },
        (error: unknown) => {
          this.#waits.delete(wait);
          reject(this.#waitError(error));
        },
      );
    });
  }

  #waitError(error: unknown): SmtpError {
    if (this.#failure) return this.#failure;
    if (error instanceof SmtpError) return error;
    return this.fail(toSmtpError(error, this.#context()));
  }

  /** Makes sure the timer fires no later than `at`. */
  #arm(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.min(MAX_DELAY, Math.max(0, at - performance.now())));
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const wait of this.#waits) {
      if (wait.at <= now) {
        this.fail(new SmtpTimeoutError(`Timed out after ${wait.ms} ms waiting for ${wait.what}`, {
          code: "ETIMEDOUT", retryable: true, phase: this.#phase, hint: this.#greetingHint(),
        }));
        return;
      }
      if (wait.at < next) next = wait.at;
    }
    // Waits that began after the timer was armed; none left means the session is idle.
    if (next !== Infinity) this.#arm(next);
  };

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  async #start(signal?: AbortSignal): Promise<void> {
    const o = this.#options;
    this.#phase = "connect";
    const params = {
      hostname: o.host, port: o.port, tls: TLS_MODES[o.encryption], servername: o.servername,
      ...(o.ca ? { ca: o.ca } : {}), ...(signal ? { signal } : {}),
    };
    const socket = await this.#wait(attempt(() => this.#connector.connect(params)), o.timeouts.connect, "the connection");
    if (this.#failure) {
      socket.abort(this.#failure);
      throw this.#failure;
    }
    this.#socket = socket;

    this.#phase = "greeting";
    const greeting = await this.readReply(o.timeouts.greeting, "the greeting");
    if (greeting.code !== 220) {
      if (greeting.code >= 400) throw this.fail(serviceUnavailable("(greeting)", greeting, "greeting"));
      throw this.fail(unexpectedReply("(greeting)", greeting, "greeting"));
    }
    this.greeting = greeting.lines.join(" ");
    await this.#hello();

    if (o.encryption === "starttls") await this.#startTls(signal);
    if (o.auth) {
      this.#phase = "auth";
      this.authMechanism = await authenticate(this, o.auth);
    }
  }

  async #hello(): Promise<void> {
    const name = this.#options.clientName ?? this.#connector.defaultClientName?.() ?? "[127.0.0.1]";
    const reply = await this.command(helloCommand("EHLO", name));
    if (reply.code === 250) {
      this.capabilities = Capabilities.fromReply(reply);
      return;
    }
    if (reply.code === 421) throw this.fail(serviceUnavailable("EHLO", reply, this.#phase));
    if (reply.code < 500) throw this.fail(unexpectedReply("EHLO", reply, this.#phase));
    // RFC 5321 §3.2: a server that does not know EHLO answers 5xx; fall back to HELO.
    const helo = await this.command(helloCommand("HELO", name));
    if (helo.code !== 250) {
      if (helo.code === 421) throw this.fail(serviceUnavailable("HELO", helo, this.#phase));
      throw this.fail(unexpectedReply("HELO", helo, this.#phase));
    }
    this.capabilities = Capabilities.fromReply({ code: 250, lines: [helo.lines[0] ?? ""] });
  }

  async #startTls(signal?: AbortSignal): Promise<void> {
    const o = this.#options;
    this.#phase = "tls";
    if (!this.capabilities.has("STARTTLS")) {
      throw this.fail(new SmtpTlsError(`Server ${o.host}:${o.port} does not offer STARTTLS`, {
        code: "ESTARTTLS", retryable: false, phase: "tls",
        hint: o.port === 465
          ? tlsModeHint({ phase: "tls", encryption: "starttls", port: o.port, host: o.host })
          : `Use a port that offers STARTTLS (usually 587), or encryption "tls" for implicit TLS; "none" only on trusted networks`,
      }));
    }
    const reply = await this.command("STARTTLS");
    if (reply.code !== 220) {
      if (reply.code === 421) throw this.fail(serviceUnavailable("STARTTLS", reply, "tls"));
      throw this.fail(new SmtpTlsError(`Server refused STARTTLS: ${reply.code} ${reply.lines.join(" ")}`, {
        code: "ESTARTTLS", retryable: reply.code >= 400 && reply.code < 500, phase: "tls", command: "STARTTLS",
        reply: { code: reply.code, message: reply.lines.join("\n") },
      }));
    }
    // CVE-2011-0411 class: bytes after the 220 arrived in plaintext and must not be trusted.
    // readReply's unsolicited-bytes check already catches them; this guard keeps the rule
    // local to the upgrade, whatever happens to the reply counting.
    if (this.#reader.buffered > 0) throw this.fail(this.#unsolicited());
    const plain = this.#socket as SmtpSocket;
    const tlsParams = { servername: o.servername, ...(o.ca ? { ca: o.ca } : {}), ...(signal ? { signal } : {}) };
    this.#socket = await this.#wait(attempt(() => plain.startTls(tlsParams)), o.timeouts.connect, "the TLS handshake");
    this.#reader = this.#newReader();
    this.capabilities = new Capabilities("", new Map());
    this.#justUpgraded = true;
    await this.#hello();
    this.#justUpgraded = false;
  }

  #log(direction: "client" | "server", line: string): void {
    const logger = this.#options.logger;
    if (!logger) return;
    try {
      logger({ direction, line });
    } catch {
      // A broken logger must not break the session.
    }
  }

  /** Reads one complete reply within `timeout` ms (after every reply already expected). */
  async readReply(timeout: number, what = "the server's reply"): Promise<SmtpReply> {
    const [reply] = await this.expect(1, timeout, what);
    return reply as SmtpReply;
  }

  /** The next complete reply from the buffer, counted and logged, or undefined. */
  #nextReply(): SmtpReply | undefined {
    let reply: SmtpReply | undefined;
    try {
      reply = this.#reader.next();
    } catch (error) {
      throw this.fail(this.#formatError(error));
    }
    if (!reply) return undefined;
    if (this.#secrets.length > 0) reply = this.#redact(reply);
    this.#awaiting--;
    // Bytes beyond every reply owed: a server that speaks out of turn would shift the
    // pairing of replies to commands (or, after STARTTLS, an injection attack).
    if (this.#awaiting <= 0 && this.#reader.buffered > 0) throw this.fail(this.#unsolicited());
    if (this.#options.logger) {
      const { code, lines } = reply;
      for (let i = 0; i < lines.length; i++) this.#log("server", `${code}${i < lines.length - 1 ? "-" : " "}${lines[i]}`);
    }
    return reply;
  }

  #unsolicited(): SmtpError {
    const injection = this.#phase === "tls";
    return new SmtpProtocolError(
      injection
        ? "Server sent unexpected data after agreeing to STARTTLS (possible injection attack)"
        : "Server sent a reply that no command asked for",
      { code: "EPROTOCOL", retryable: false, phase: this.#phase },
    );
  }

  /** Hides secrets in what the server sent back (a server may echo the AUTH exchange). */
  #redact(reply: SmtpReply): SmtpReply {
    // Most replies contain no secret: keep them as they are rather than copying every line.
    if (!this.#holdsSecret(reply.lines)) return reply;
    const secrets = this.#secrets;
    const lines = reply.lines.map((line) => secrets.reduce((text, secret) => text.split(secret).join("[redacted]"), line));
    return { ...reply, lines };
  }

  // Plain loops: this runs for every reply once AUTH has registered secrets.
  #holdsSecret(lines: readonly string[]): boolean {
    const secrets = this.#secrets;
    for (const line of lines) {
      for (const secret of secrets) if (line.includes(secret)) return true;
    }
    return false;
  }

  /** Registers forms of a secret that must never appear in logs or errors. */
  addSecrets(...secrets: string[]): void {
    for (const secret of secrets) if (secret.length >= 3) this.#secrets.push(secret);
  }

  #formatError(error: unknown): SmtpError {
    const message = error instanceof ReplyFormatError ? error.message : String(error);
    const o = this.#options;
    if (this.#phase === "greeting" && error instanceof ReplyFormatError && TLS_RECORD.test(error.line ?? "")) {
      return new SmtpTlsError(`Server at ${o.host}:${o.port} answered with TLS, not an SMTP greeting`, {
        code: "ETLSMODE", retryable: false, phase: "greeting", hint: tlsModeHint(this.#context()), cause: error,
      });
    }
    return new SmtpProtocolError(`Invalid reply from server: ${message}`, {
      code: "EPROTOCOL", retryable: false, phase: this.#phase, cause: error,
    });
  }

  #eofError(): SmtpError {
    return toSmtpError(new SocketError("EOF", "connection closed by the server"), this.#context());
  }

  /**
   * Writes raw bytes within the command deadline. `replies` is how many replies these bytes
   * ask for; it is counted before the write so a fast reply is never taken as unsolicited.
   */
  write(bytes: Uint8Array, replies = 0, timeout: number = this.#options.timeouts.command): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#awaiting <= 0 && this.#reader.buffered > 0) return Promise.reject(this.fail(this.#unsolicited()));
    this.#awaiting += replies;
    let written: Promise<void>;
    try {
      written = (this.#socket as SmtpSocket).write(bytes);
    } catch (error) {
      written = Promise.reject(error);
    }
    return this.#wait(written, timeout, "the server to accept data");
  }

  /** Writes lines to the transcript as sent by the client. */
  logClient(lines: string[]): void {
    for (const line of lines) this.#log("client", line);
  }

  /** Writes several command lines in one write (PIPELINING, RFC 2920) without reading. */
  writeCommands(lines: string[], logAs: string[] = lines): Promise<void> {
    for (const line of logAs) this.#log("client", line);
    return this.write(commandBytes(...lines), lines.length);
  }

  /** Sends one command and reads its reply (after every reply already expected). */
  async command(line: string, options: CommandOptions = {}): Promise<SmtpReply> {
    this.#log("client", options.logAs ?? line);
    await this.write(commandBytes(line), 1);
    const [reply] = await this.expect(1, options.timeout ?? this.#options.timeouts.command);
    return reply as SmtpReply;
  }

  /**
   * Reads the next `count` replies, in order after every reply already expected: the
   * queue that lets several commands (and several messages) be in flight (RFC 2920). Each
   * reply that has to be waited for gets `timeout` ms from the read that finds it missing.
   */
  expect(count: number, timeout: number, what = "the server's reply"): Promise<SmtpReply[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    const replies: SmtpReply[] = [];
    if (this.#replyQueue.length === 0) {
      // First in line: replies already buffered (pipelined replies come together) are taken now.
      try {
        while (replies.length < count) {
          const reply = this.#nextReply();
          if (!reply) break;
          replies.push(reply);
        }
      } catch (error) {
        return Promise.reject(error);
      }
      if (replies.length === count) return Promise.resolve(replies);
    }
    return new Promise<SmtpReply[]>((resolve, reject) => {
      this.#replyQueue.push({ count, timeout, what, replies, resolve, reject });
      this.#pump();
    });
  }

  /** Hands buffered replies to the waiting expect() calls in order; reads when the first needs more. */
  #pump(): void {
    if (this.#reading || this.#failure) return;
    const queue = this.#replyQueue;
    let head: ReplyWaiter | undefined;
    try {
      while ((head = queue[0]) !== undefined) {
        while (head.replies.length < head.count) {
          const reply = this.#nextReply();
          if (!reply) break;
          if (this.#readWait) this.#endReadWait();
          head.replies.push(reply);
        }
        if (head.replies.length < head.count) break;
        queue.shift();
        head.resolve(head.replies);
      }
    } catch (error) {
      // #nextReply fails the session before it throws, and that rejects every waiter.
      if (!this.#failure) this.fail(toSmtpError(error, this.#context()));
      return;
    }
    if (head === undefined) return;
    if (!this.#readWait) {
      this.#readWait = { at: performance.now() + head.timeout, ms: head.timeout, what: head.what, reject: undefined };
      this.#waits.add(this.#readWait);
      this.#arm(this.#readWait.at);
    }
    this.#reading = true;
    let chunk: Promise<Uint8Array | null>;
    try {
      chunk = (this.#socket as SmtpSocket).read();
    } catch (error) {
      chunk = Promise.reject(error);
    }
    chunk.then(this.#onChunk, this.#onReadError);
  }

  #endReadWait(): void {
    this.#waits.delete(this.#readWait as Wait);
    this.#readWait = undefined;
  }

  readonly #onChunk = (chunk: Uint8Array | null): void => {
    this.#reading = false;
    if (this.#failure) return;
    if (chunk === null) {
      this.fail(this.#eofError());
      return;
    }
    this.#reader.push(chunk);
    this.#pump();
  };

  readonly #onReadError = (error: unknown): void => {
    this.#reading = false;
    // A failed read (a reset, say) ends the session and so every wait for a reply.
    if (!this.#failure) this.fail(toSmtpError(error, this.#context()));
  };

  /**
   * Waits for exclusive use of the write side, so that one message's commands and body are
   * never interleaved with another's. Resolves with the function that releases it; waiters
   * are served in call order, and rejected when the session fails.
   */
  lockWrites(): Promise<() => void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#writeLocked) {
      this.#writeLocked = true;
      return Promise.resolve(this.#unlocker());
    }
    return new Promise<() => void>((resolve, reject) => {
      this.#lockQueue.push({ resolve, reject });
    });
  }

  /** Releases the write side once, handing it to the next waiter. */
  #unlocker(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#lockQueue.shift();
      if (next) next.resolve(this.#unlocker());
      else this.#writeLocked = false;
    };
  }

  /** Says QUIT (bounded by the close timeout) and closes the socket. Never rejects. */
  async quit(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    if (!socket) return;
    const limit = this.#options.timeouts.close;
    if (!this.#failure) {
      this.#phase = "quit";
      try {
        const exchange = async (): Promise<void> => {
          if (!this.#quitSent) {
            this.#log("client", "QUIT");
            this.#awaiting++;
            await socket.write(commandBytes("QUIT"));
          }
          // After every reply already expected: a pipelined QUIT's comes after the message's.
          await this.readReply(limit);
        };
        await this.#wait(attempt(exchange), limit, "the reply to QUIT");
      } catch {
        // The message is already delivered; a rude server at QUIT changes nothing.
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      socket.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limit);
      }),
    ]);
    clearTimeout(timer);
    this.#stopTimer();
    socket.abort(this.#failure ?? new SmtpAbortError("Session closed", { code: "ECLOSED", retryable: false, phase: "quit" }));
  }
}
