/**
 * The Bun adapter: sockets from Bun's native `Bun.connect`, upgraded in place with
 * `socket.upgradeTLS`. It does not use `node:net`.
 *
 * Bun pushes data into callbacks, so this adapter keeps a small queue per socket and turns
 * it into the pull-based {@link SmtpSocket} contract, pausing the socket above about 1 MiB.
 * Things Bun does that the adapter works around:
 *
 * - `Bun.connect` resolves when TCP opens, before the TLS handshake: it waits for the
 *   `handshake` callback.
 * - `write()` may accept only part of a chunk: it keeps the rest and continues on `drain`.
 * - After `upgradeTLS` the old handlers keep receiving the ciphertext and `close`
 *   (oven-sh/bun#26297): they are detached and ignore everything.
 * - `Bun.connect` ignores an AbortSignal: a connect is raced against the signal and a
 *   socket that opens too late is terminated.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp";
 * import { bunConnector } from "@nina/smtp/bun";
 * const smtp = createTransport({ host: "smtp.example.com", connector: bunConnector });
 * ```
 *
 * @module
 */

import { SocketError } from "../src/socket.ts";
import type {
  ConnectParams,
  Connector,
  SmtpSocket,
  SocketErrorKind,
  TlsInfo,
  TlsParams,
} from "../src/socket.ts";

// ---------------------------------------------------------------------------------------
// The small part of Bun's API this file uses (declared here so no @types/bun is needed).

interface BunTlsOptions {
  serverName?: string;
  ca?: string[];
  rejectUnauthorized?: boolean;
}

interface BunNativeSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  upgradeTLS(options: { tls: BunTlsOptions; socket: BunHandlers }): [BunNativeSocket, BunNativeSocket];
  getTLSVersion?(): string | null;
  getCipher?(): { name?: string } | null;
}

interface BunHandlers {
  open(socket: BunNativeSocket): void;
  data(socket: BunNativeSocket, data: Uint8Array): void;
  drain(socket: BunNativeSocket): void;
  end(socket: BunNativeSocket): void;
  close(socket: BunNativeSocket, error?: Error): void;
  error(socket: BunNativeSocket, error: Error): void;
  connectError(socket: BunNativeSocket, error: Error): void;
  handshake(socket: BunNativeSocket, success: boolean, authorizationError: Error | null): void;
  timeout(socket: BunNativeSocket): void;
}

interface BunConnectOptions {
  hostname: string;
  port: number;
  socket: BunHandlers;
  tls?: BunTlsOptions;
}

interface BunGlobal {
  connect(options: BunConnectOptions): Promise<BunNativeSocket>;
}

// ---------------------------------------------------------------------------------------

/** Pause the runtime socket when this many bytes wait unread, resume below the low mark. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
/** How long close() waits for Bun's `close` callback before terminating. */
const CLOSE_BOUND_MS = 1000;

const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
  "ERR_TLS_CERT_SIGNATURE_ALGORITHM_UNSUPPORTED",
]);

function bunGlobal(): BunGlobal {
  const bun = (globalThis as { Bun?: BunGlobal }).Bun;
  if (!bun || typeof bun.connect !== "function") {
    throw new SocketError("UNKNOWN", "The Bun adapter needs the Bun runtime (Bun.connect is missing)");
  }
  return bun;
}

/** Maps a Bun error (Node-style `code`) to a {@link SocketError}; keeps the original as cause. */
function normalise(err: unknown, fallback: SocketErrorKind = "UNKNOWN"): SocketError {
  if (err instanceof SocketError) return err;
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const message = err instanceof Error ? err.message : String(err);
  let kind: SocketErrorKind = fallback;
  if (code === "ECONNREFUSED") kind = "ECONNREFUSED";
  else if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_NONAME" || code === "EAI_FAIL") {
    kind = "ENOTFOUND";
  } else if (code === "ETIMEDOUT") kind = "ETIMEDOUT";
  else if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") kind = "ECONNRESET";
  else if (UNTRUSTED_CODES.has(code)) kind = "TLS_UNTRUSTED";
  else if (code === "ERR_TLS_CERT_ALTNAME_INVALID") kind = "TLS_HOSTNAME";
  else if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code.startsWith("SSL_")) kind = "TLS";
  else if (code === "ABORT_ERR" || (err as { name?: unknown } | null)?.name === "AbortError") kind = "ABORTED";
  const text = message && message !== code ? message : `Socket failed (${code || "no code"})`;
  return new SocketError(kind, code && !text.includes(code) ? `${text} (${code})` : text, err);
}

function abortedError(signal: AbortSignal): SocketError {
  return new SocketError("ABORTED", "The connection attempt was aborted", signal.reason);
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * The state of one Bun socket (plain or TLS) and the handlers Bun calls for it. Once
 * detached (after an upgrade, or when abandoned), every callback is ignored.
 */
class Channel {
  sock: BunNativeSocket | undefined;
  detached = false;
  /** Set when the caller gave up on a connect: a late `open` terminates the socket. */
  abandoned = false;
  closed = false;
  ended = false;
  error: SocketError | undefined;

  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private paused = false;
  private reader: Waiter<Uint8Array | null> | undefined;
  private pendingWrite: { rest: Uint8Array; waiter: Waiter<void> } | undefined;
  private handshakeResult: { ok: true } | { ok: false; error: SocketError } | undefined;
  private handshakeWaiter: Waiter<void> | undefined;
  private closeWaiters: Array<() => void> = [];

  /** @param tlsExpected whether a handshake is coming (a close before it is a TLS failure) */
  constructor(private readonly tlsExpected: boolean) {}

  handlers(): BunHandlers {
    return {
      open: (s) => {
        if (this.abandoned) return terminate(s);
        if (this.detached) return;
        this.sock ??= s;
      },
      data: (s, chunk) => {
        if (this.detached) return;
        this.sock ??= s;
        this.onData(chunk);
      },
      drain: () => {
        if (this.detached) return;
        this.flush();
      },
      end: () => {
        if (this.detached) return;
        this.ended = true;
        this.settleReader();
      },
      close: (_s, error) => {
        if (this.detached) return;
        this.onClose(error);
      },
      error: (_s, error) => {
        if (this.detached) return;
        this.error ??= normalise(error, this.tlsExpected ? "TLS" : "UNKNOWN");
        this.finishHandshake({ ok: false, error: this.error });
        this.settleReader();
        this.failWrite(this.error);
      },
      connectError: () => {
        // Bun.connect rejects with the same error; handled there.
      },
      handshake: (s, success, authorizationError) => {
        if (this.detached) return;
        this.sock ??= s;
        if (success && !authorizationError) this.finishHandshake({ ok: true });
        else {
          const error = normalise(authorizationError ?? new Error("TLS handshake failed"), "TLS");
          this.error ??= error;
          this.finishHandshake({ ok: false, error });
        }
      },
      timeout: () => {
        // Bun's idle timer is not used: timeouts belong to the core.
      },
    };
  }

  private onData(chunk: Uint8Array): void {
    // Copy: the contract hands out chunks the core may keep, and Bun does not promise
    // that it never reuses its buffer.
    const copy = chunk.slice();
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      reader.resolve(copy);
      return;
    }
    this.queue.push(copy);
    this.queued += copy.byteLength;
    if (!this.paused && this.queued > HIGH_WATER && this.sock) {
      this.paused = true;
      this.sock.pause();
    }
  }

  private onClose(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (error) this.error ??= normalise(error);
    if (this.tlsExpected && !this.handshakeResult) {
      const failure =
        this.error ?? new SocketError("TLS", "The connection closed during the TLS handshake");
      this.finishHandshake({ ok: false, error: failure });
    }
    this.settleReader();
    this.failWrite(this.error ?? new SocketError("ECONNRESET", "The connection closed while writing"));
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }

  private finishHandshake(result: { ok: true } | { ok: false; error: SocketError }): void {
    if (this.handshakeResult) return;
    this.handshakeResult = result;
    const waiter = this.handshakeWaiter;
    this.handshakeWaiter = undefined;
    if (!waiter) return;
    if (result.ok) waiter.resolve();
    else waiter.reject(result.error);
  }

  /** Resolves when the handshake succeeded; rejects with a TLS-kind SocketError otherwise. */
  handshake(signal: AbortSignal | undefined): Promise<void> {
    const result = this.handshakeResult;
    if (result) return result.ok ? Promise.resolve() : Promise.reject(result.error);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.handshakeWaiter = undefined;
        reject(abortedError(signal!));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.handshakeWaiter = {
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
    });
  }

  /** Bytes waiting to be read (only the upgrade looks at this). */
  get buffered(): number {
    return this.queued;
  }

  read(): Promise<Uint8Array | null> {
    if (this.reader) return Promise.reject(new SocketError("UNKNOWN", "A read is already in flight"));
    const chunk = this.queue.shift();
    if (chunk) {
      this.queued -= chunk.byteLength;
      if (this.paused && this.queued < LOW_WATER && this.sock && !this.closed) {
        this.paused = false;
        this.sock.resume();
      }
      return Promise.resolve(chunk);
    }
    if (this.error) return Promise.reject(this.error);
    if (this.ended || this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
    });
  }

  /** Hands a pending reader its EOF or error (the queue is empty whenever a reader waits). */
  private settleReader(): void {
    const reader = this.reader;
    if (!reader) return;
    this.reader = undefined;
    if (this.error) reader.reject(this.error);
    else reader.resolve(null);
  }

  /** Rejects a pending read with `reason` (used by abort). */
  rejectReader(reason: unknown): void {
    const reader = this.reader;
    this.reader = undefined;
    reader?.reject(reason);
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.pendingWrite) return Promise.reject(new SocketError("UNKNOWN", "A write is already in flight"));
    if (this.error) return Promise.reject(this.error);
    if (this.closed || !this.sock) {
      return Promise.reject(new SocketError("ECONNRESET", "The connection is closed"));
    }
    if (bytes.byteLength === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pendingWrite = { rest: bytes, waiter: { resolve, reject } };
      this.flush();
    });
  }

  /** Offers the unaccepted rest of the pending write to Bun; called again on `drain`. */
  private flush(): void {
    const pending = this.pendingWrite;
    if (!pending || !this.sock) return;
    let accepted: number;
    try {
      accepted = this.sock.write(pending.rest);
    } catch (err) {
      this.failWrite(normalise(err, "ECONNRESET"));
      return;
    }
    if (accepted < 0) {
      this.failWrite(new SocketError("ECONNRESET", "The connection is closed"));
      return;
    }
    if (accepted >= pending.rest.byteLength) {
      this.pendingWrite = undefined;
      pending.waiter.resolve();
      return;
    }
    // Keep the rest; Bun calls `drain` when it can take more.
    pending.rest = pending.rest.subarray(accepted);
  }

  failWrite(reason: unknown): void {
    const pending = this.pendingWrite;
    this.pendingWrite = undefined;
    pending?.waiter.reject(reason);
  }

  /** Resolves when Bun reports `close`, or after `ms`. */
  waitClosed(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function terminate(sock: BunNativeSocket | undefined): void {
  try {
    sock?.terminate();
  } catch {
    // already gone
  }
}

/** One {@link SmtpSocket} over a Bun socket. */
class BunSmtpSocket implements SmtpSocket {
  private aborted = false;
  private abortReason: unknown;
  private closing: Promise<void> | undefined;
  /** Set once `startTls` handed the connection to a new socket. */
  private replaced = false;
  private upgrading = false;

  constructor(
    private readonly channel: Channel,
    readonly secure: boolean,
  ) {}

  read(): Promise<Uint8Array | null> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closing) return Promise.resolve(null);
    return this.channel.read();
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closing) return Promise.reject(new SocketError("ECONNRESET", "The socket is closed"));
    return this.channel.write(bytes);
  }

  async startTls(params: TlsParams): Promise<SmtpSocket> {
    if (this.aborted) throw this.abortReason;
    if (this.replaced || this.upgrading || this.closing) {
      throw new SocketError("UNKNOWN", "This socket cannot be upgraded (already upgraded or closed)");
    }
    if (this.secure) throw new SocketError("TLS", "The socket is already encrypted");
    if (this.channel.buffered > 0) {
      // Plaintext that arrived after the server's go-ahead would otherwise be dropped
      // silently; refusing keeps the STARTTLS injection defence closed.
      throw new SocketError("TLS", "The server sent unexpected plaintext before the TLS upgrade");
    }
    const raw = this.channel.sock;
    if (!raw || this.channel.closed) throw new SocketError("ECONNRESET", "The connection is closed");
    if (params.signal?.aborted) throw abortedError(params.signal);
    this.upgrading = true;
    const next = new Channel(true);
    let tlsSock: BunNativeSocket;
    try {
      // From here the old handlers keep firing with ciphertext (oven-sh/bun#26297): ignore them.
      this.channel.detached = true;
      const pair = raw.upgradeTLS({
        tls: { serverName: params.servername, ca: params.ca, rejectUnauthorized: true },
        socket: next.handlers(),
      });
      tlsSock = pair[1];
    } catch (err) {
      this.upgrading = false;
      terminate(raw);
      throw normalise(err, "TLS");
    }
    next.sock = tlsSock;
    try {
      await next.handshake(params.signal);
    } catch (err) {
      next.detached = true;
      terminate(tlsSock);
      terminate(raw);
      this.upgrading = false;
      this.closing = Promise.resolve();
      // An abort() of this socket during the handshake wins over the TLS error it causes.
      throw this.aborted ? this.abortReason : err;
    }
    this.upgrading = false;
    this.replaced = true;
    return new BunSmtpSocket(next, true);
  }

  close(): Promise<void> {
    if (this.replaced) return Promise.resolve();
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    const sock = this.channel.sock;
    if (!sock || this.channel.closed) return;
    try {
      // end() flushes, sends FIN and closes; wait a bounded time for Bun to confirm.
      sock.end();
    } catch {
      // fall through to terminate
    }
    await this.channel.waitClosed(CLOSE_BOUND_MS);
    if (!this.channel.closed) terminate(sock);
    this.channel.rejectReader(new SocketError("ECONNRESET", "The socket was closed"));
  }

  abort(reason?: unknown): void {
    if (this.replaced) return;
    if (!this.aborted) {
      this.aborted = true;
      this.abortReason = reason ?? new SocketError("ABORTED", "The socket was aborted");
    }
    this.closing ??= Promise.resolve();
    this.channel.rejectReader(this.abortReason);
    this.channel.failWrite(this.abortReason);
    this.channel.detached = true;
    terminate(this.channel.sock);
  }

  tlsInfo(): TlsInfo | undefined {
    if (!this.secure) return undefined;
    const sock = this.channel.sock;
    const info: TlsInfo = {};
    try {
      const protocol = sock?.getTLSVersion?.();
      if (protocol) info.protocol = protocol;
      const cipher = sock?.getCipher?.()?.name;
      if (cipher) info.cipher = cipher;
    } catch {
      // not exposed
    }
    return info;
  }
}

async function connect(params: ConnectParams): Promise<SmtpSocket> {
  const bun = bunGlobal();
  const { signal } = params;
  if (signal?.aborted) throw abortedError(signal);
  const implicitTls = params.tls === "on";
  const channel = new Channel(implicitTls);
  const options: BunConnectOptions = {
    hostname: params.hostname,
    port: params.port,
    socket: channel.handlers(),
  };
  if (implicitTls) {
    options.tls = { serverName: params.servername, ca: params.ca, rejectUnauthorized: true };
  }

  let opening: Promise<BunNativeSocket>;
  try {
    opening = bun.connect(options);
  } catch (err) {
    throw normalise(err);
  }
  // Bun.connect cannot be cancelled: race it against the signal and terminate late sockets.
  const sock = await new Promise<BunNativeSocket>((resolve, reject) => {
    const onAbort = (): void => {
      channel.abandoned = true;
      channel.detached = true;
      terminate(channel.sock);
      reject(abortedError(signal!));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    opening.then(
      (s) => {
        signal?.removeEventListener("abort", onAbort);
        if (channel.abandoned) terminate(s);
        else resolve(s);
      },
      (err) => {
        signal?.removeEventListener("abort", onAbort);
        reject(normalise(err));
      },
    );
  });
  channel.sock ??= sock;
  if (implicitTls) {
    try {
      await channel.handshake(signal);
    } catch (err) {
      channel.detached = true;
      terminate(sock);
      throw err;
    }
  }
  return new BunSmtpSocket(channel, implicitTls);
}

/**
 * The connector for Bun, on `Bun.connect` and `socket.upgradeTLS`. Trusts extra CAs per
 * connection (`ca`) and verifies `servername`, which may differ from the dialled host.
 */
export const bunConnector: Connector = {
  name: "bun",
  capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
  connect,
};
