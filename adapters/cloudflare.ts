/**
 * The Cloudflare Workers adapter: sockets from `connect()` in `cloudflare:sockets`.
 *
 * What Workers allow shapes what this adapter accepts:
 *
 * - The TLS mode is fixed at connect time (`secureTransport`), and only a socket opened
 *   for `"starttls"` can be upgraded.
 * - There is no per-socket CA: trust lives in the runtime's configuration (workerd's
 *   `trustedCertificates`, Miniflare's `outboundService.network.tlsOptions`). A `ca` option
 *   is refused with an error that says so, rather than silently ignored.
 * - The certificate is verified against the dialled host name: `startTls()` is called
 *   without options (`expectedServerHostname` is not honoured on the edge), so a
 *   `servername` that differs from the host is refused up front.
 * - Port 25 is blocked in production and refused here before dialling.
 * - Errors are opaque (`proxy request failed ...`, `internal error; reference = ...`); they
 *   are classified from the phase they happen in and keep their text.
 * - `close()` can hang, so it is never awaited past a bound.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp";
 * import { cloudflareConnector } from "@nina/smtp/cloudflare";
 * const smtp = createTransport({ host: "smtp.example.com", port: 587, connector: cloudflareConnector });
 * ```
 *
 * @module
 */

import { connect as cfConnect } from "cloudflare:sockets";
import type { Socket as CfSocket } from "cloudflare:sockets";
import { SocketError } from "../src/socket.ts";
import type {
  ConnectParams,
  Connector,
  SmtpSocket,
  SocketErrorKind,
  TlsInfo,
  TlsMode,
  TlsParams,
} from "../src/socket.ts";

/** How long close() waits for the runtime before giving up on it (it can hang). */
const CLOSE_BOUND_MS = 1500;

function sameHost(a: string, b: string): boolean {
  const norm = (s: string): string => s.toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1");
  return norm(a) === norm(b);
}

function servernameError(servername: string, hostname: string): SocketError {
  return new SocketError(
    "TLS",
    `Cloudflare Workers verify the certificate against the dialled host, so servername "${servername}" ` +
      `cannot differ from host "${hostname}": connect to "${servername}" instead`,
  );
}

function caError(): SocketError {
  return new SocketError(
    "TLS",
    "Cloudflare Workers cannot trust a CA per connection: remove the ca option and add the " +
      "certificate to the runtime's trusted certificates (workerd tlsOptions.trustedCertificates, " +
      "Miniflare outboundService.network.tlsOptions)",
  );
}

function abortedError(signal: AbortSignal): SocketError {
  return new SocketError("ABORTED", "The connection attempt was aborted", signal.reason);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Classifies a Workers socket error. The runtime does not say why a connection or
 * handshake failed, so the phase decides; the runtime's text is kept.
 */
function normalise(err: unknown, phase: "connect" | "tls" | "io", mode: TlsMode): SocketError {
  if (err instanceof SocketError) return err;
  const message = messageOf(err);
  if (/port 25|prohibited/i.test(message)) return new SocketError("ECONNREFUSED", message, err);
  if (phase === "connect") {
    if (mode === "on") {
      return new SocketError(
        "UNKNOWN",
        `Could not connect, or the TLS handshake failed (Workers report both alike): ${message}`,
        err,
      );
    }
    if (/proxy request failed|cannot connect|refused/i.test(message)) {
      return new SocketError("ECONNREFUSED", message, err);
    }
    if (/dns|resolve|lookup/i.test(message)) return new SocketError("ENOTFOUND", message, err);
    return new SocketError("UNKNOWN", message, err);
  }
  if (phase === "tls") {
    return new SocketError("TLS", `The TLS handshake failed (Workers do not say why): ${message}`, err);
  }
  const kind: SocketErrorKind = /reset|closed|cancel/i.test(message) ? "ECONNRESET" : "UNKNOWN";
  return new SocketError(kind, message, err);
}

/** Settles with `promise`, or rejects when `signal` fires (calling `onAbort` first). */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(abortedError(signal));
    };
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", abort);
        reject(e);
      },
    );
  });
}

/** Fire-and-forget close: a Workers `close()` may never settle. */
function closeDetached(sock: CfSocket): Promise<void> {
  try {
    return sock.close().catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
}

/** One {@link SmtpSocket} over a Workers socket. */
class CloudflareSmtpSocket implements SmtpSocket {
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  private pendingRead: { resolve(v: null): void; reject(e: unknown): void } | undefined;
  private pendingWrite: { reject(e: unknown): void } | undefined;
  private aborted = false;
  private abortReason: unknown;
  private closing: Promise<void> | undefined;
  private replaced = false;
  private upgradeStop: AbortController | undefined;
  /**
   * True from the start of a TLS session until the first bytes arrive. Some workerd
   * versions resolve `opened` before the handshake, so a failure then is a TLS failure.
   */
  private tlsUnconfirmed: boolean;

  constructor(
    private readonly sock: CfSocket,
    readonly secure: boolean,
    private readonly mode: TlsMode,
    private readonly hostname: string,
  ) {
    this.tlsUnconfirmed = secure;
    sock.closed.catch(() => undefined);
  }

  private getReader(): ReadableStreamDefaultReader<Uint8Array> {
    const reader = this.reader ?? this.sock.readable.getReader();
    this.reader = reader;
    return reader;
  }

  private getWriter(): WritableStreamDefaultWriter<Uint8Array> {
    const writer = this.writer ?? this.sock.writable.getWriter();
    this.writer = writer;
    return writer;
  }

  private ioError(err: unknown): SocketError {
    return normalise(err, this.tlsUnconfirmed ? "tls" : "io", this.mode);
  }

  read(): Promise<Uint8Array | null> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closing) return Promise.resolve(null);
    if (this.pendingRead) return Promise.reject(new SocketError("UNKNOWN", "A read is already in flight"));
    return new Promise<Uint8Array | null>((resolve, reject) => {
      const pending = { resolve, reject };
      this.pendingRead = pending;
      this.getReader()
        .read()
        .then(
          (result) => {
            if (this.pendingRead !== pending) return;
            this.pendingRead = undefined;
            if (result.done) return resolve(null);
            if (result.value.byteLength > 0) this.tlsUnconfirmed = false;
            resolve(result.value);
          },
          (err) => {
            if (this.pendingRead !== pending) return;
            this.pendingRead = undefined;
            reject(this.ioError(err));
          },
        );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closing) return Promise.reject(new SocketError("ECONNRESET", "The socket is closed"));
    if (this.pendingWrite) return Promise.reject(new SocketError("UNKNOWN", "A write is already in flight"));
    if (bytes.byteLength === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const pending = { reject };
      this.pendingWrite = pending;
      // The writer's promise settles when the runtime accepted the chunk: backpressure.
      this.getWriter()
        .write(bytes)
        .then(
          () => {
            if (this.pendingWrite !== pending) return;
            this.pendingWrite = undefined;
            resolve();
          },
          (err) => {
            if (this.pendingWrite !== pending) return;
            this.pendingWrite = undefined;
            reject(this.ioError(err));
          },
        );
    });
  }

  async startTls(params: TlsParams): Promise<SmtpSocket> {
    if (this.aborted) throw this.abortReason;
    if (this.replaced || this.closing) {
      throw new SocketError("UNKNOWN", "This socket cannot be upgraded (already upgraded or closed)");
    }
    if (this.secure) throw new SocketError("TLS", "The socket is already encrypted");
    if (this.mode !== "starttls") {
      throw new SocketError("TLS", 'Cloudflare Workers can only upgrade a socket opened with tls: "starttls"');
    }
    if (params.ca && params.ca.length > 0) throw caError();
    if (!sameHost(params.servername, this.hostname)) throw servernameError(params.servername, this.hostname);
    if (this.pendingRead || this.pendingWrite) {
      // workerd hangs when a read is pending or a lock is held at startTls.
      throw new SocketError("UNKNOWN", "startTls was called with a read or write in flight");
    }
    if (params.signal?.aborted) throw abortedError(params.signal);
    // Both locks must be released, with no read pending, or the upgrade never settles.
    this.reader?.releaseLock();
    this.writer?.releaseLock();
    this.reader = undefined;
    this.writer = undefined;
    this.replaced = true;
    let tls: CfSocket;
    try {
      tls = this.sock.startTls();
    } catch (err) {
      void closeDetached(this.sock);
      throw normalise(err, "tls", this.mode);
    }
    tls.opened.catch(() => undefined);
    tls.closed.catch(() => undefined);
    const stop = new AbortController();
    this.upgradeStop = stop;
    try {
      // A hung handshake cannot be cancelled in workerd: on abort it is abandoned.
      await raceSignal(
        raceSignal(tls.opened, params.signal, () => void closeDetached(tls)),
        stop.signal,
        () => void closeDetached(tls),
      );
    } catch (err) {
      void closeDetached(tls);
      throw this.aborted ? this.abortReason : normalise(err, "tls", this.mode);
    } finally {
      this.upgradeStop = undefined;
    }
    return new CloudflareSmtpSocket(tls, true, this.mode, this.hostname);
  }

  close(): Promise<void> {
    if (this.replaced) return Promise.resolve();
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    const read = this.pendingRead;
    this.pendingRead = undefined;
    read?.resolve(null);
    const write = this.pendingWrite;
    this.pendingWrite = undefined;
    write?.reject(new SocketError("ECONNRESET", "The socket was closed while writing"));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      closeDetached(this.sock),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_BOUND_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  abort(reason?: unknown): void {
    if (!this.aborted) {
      this.aborted = true;
      this.abortReason = reason ?? new SocketError("ABORTED", "The socket was aborted");
    }
    const read = this.pendingRead;
    this.pendingRead = undefined;
    read?.reject(this.abortReason);
    const write = this.pendingWrite;
    this.pendingWrite = undefined;
    write?.reject(this.abortReason);
    if (this.replaced) {
      // Mid-upgrade: abandon the handshake. After an upgrade the new socket owns the connection.
      this.upgradeStop?.abort(this.abortReason);
      return;
    }
    if (!this.closing) {
      this.closing = Promise.resolve();
      void closeDetached(this.sock);
    }
  }

  tlsInfo(): TlsInfo | undefined {
    // Workers expose no session details.
    return this.secure ? {} : undefined;
  }
}

async function connect(params: ConnectParams): Promise<SmtpSocket> {
  const { signal } = params;
  if (signal?.aborted) throw abortedError(signal);
  if (params.port === 25) {
    throw new SocketError(
      "ECONNREFUSED",
      "Cloudflare Workers block outbound connections to port 25: use the submission port 587 or 465",
    );
  }
  if (params.tls !== "off") {
    if (params.ca && params.ca.length > 0) throw caError();
    if (!sameHost(params.servername, params.hostname)) throw servernameError(params.servername, params.hostname);
  }
  let sock: CfSocket;
  try {
    sock = cfConnect(
      { hostname: params.hostname, port: params.port },
      { secureTransport: params.tls, allowHalfOpen: true },
    );
  } catch (err) {
    throw normalise(err, "connect", params.tls);
  }
  sock.opened.catch(() => undefined);
  sock.closed.catch(() => undefined);
  try {
    // close() on a socket still connecting never settles: fire and forget it on abort.
    await raceSignal(sock.opened, signal, () => void closeDetached(sock));
  } catch (err) {
    void closeDetached(sock);
    throw normalise(err, "connect", params.tls);
  }
  return new CloudflareSmtpSocket(sock, params.tls === "on", params.tls, params.hostname);
}

/**
 * The connector for Cloudflare Workers, on `connect()` from `cloudflare:sockets`. It cannot
 * take a per-connection CA, and the certificate is checked against the dialled host.
 */
export const cloudflareConnector: Connector = {
  name: "cloudflare",
  capabilities: { perSocketCa: false, servernameDiffersFromHost: false },
  connect,
};
