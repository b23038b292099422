/**
 * The Deno adapter: sockets from `Deno.connect`, secured with `Deno.startTls`.
 *
 * Implicit TLS is a plain connect followed by `startTls`, because `Deno.connectTls` has no
 * servername option and ignores an AbortSignal. Reads happen only when the core asks, so
 * no read is ever in flight at the upgrade (`startTls` fails with `Busy` and consumes the
 * connection otherwise). Needs `--allow-net` for the server's host and port.
 *
 * @example
 * ```ts
 * import { createTransport } from "@nina/smtp";
 * import { denoConnector } from "@nina/smtp/deno";
 * const smtp = createTransport({ host: "smtp.example.com", connector: denoConnector });
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
// The small part of Deno's API this file uses (declared here so no Deno types are needed).

interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

interface DenoTlsConn extends DenoConn {
  handshake(): Promise<{ alpnProtocol: string | null }>;
}

interface DenoGlobal {
  connect(options: { hostname: string; port: number; transport?: "tcp"; signal?: AbortSignal }): Promise<DenoConn>;
  startTls(conn: DenoConn, options: { hostname: string; caCerts?: string[] }): Promise<DenoTlsConn>;
}

// ---------------------------------------------------------------------------------------

/** Bytes asked for per read. */
const READ_SIZE = 64 * 1024;

function denoGlobal(): DenoGlobal {
  const deno = (globalThis as { Deno?: DenoGlobal }).Deno;
  if (!deno || typeof deno.connect !== "function" || typeof deno.startTls !== "function") {
    throw new SocketError("UNKNOWN", "The Deno adapter needs the Deno runtime (Deno.connect is missing)");
  }
  return deno;
}

/**
 * Maps a Deno error to a {@link SocketError}. Deno's error classes are told apart by
 * `name` (`Deno.errors.ConnectionRefused` has the name `"ConnectionRefused"`), and the
 * certificate problems only by rustls' message text.
 */
function normalise(err: unknown, target: string, fallback: SocketErrorKind = "UNKNOWN"): SocketError {
  if (err instanceof SocketError) return err;
  const name = String((err as { name?: unknown } | null)?.name ?? "");
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case "ConnectionRefused":
      return new SocketError("ECONNREFUSED", message, err);
    case "ConnectionReset":
    case "ConnectionAborted":
    case "BrokenPipe":
    case "NotConnected":
    case "UnexpectedEof":
      return new SocketError("ECONNRESET", message, err);
    case "TimedOut":
      return new SocketError("ETIMEDOUT", message, err);
    case "AbortError":
    case "Interrupted":
      return new SocketError("ABORTED", message, err);
    case "NotCapable":
    case "PermissionDenied":
      return new SocketError(
        "UNKNOWN",
        `Deno has no permission to connect to ${target}: run it with --allow-net=${target} (${message})`,
        err,
      );
    case "InvalidData": {
      if (/UnknownIssuer|BadSignature|UnknownRevocationStatus|Expired|NotValidYet|Revoked|CaUsedAsEndEntity|UnsupportedSignatureAlgorithm|invalid peer certificate: Other/i.test(message)) {
        return new SocketError("TLS_UNTRUSTED", message, err);
      }
      if (/not valid for name|NotValidForName/i.test(message)) return new SocketError("TLS_HOSTNAME", message, err);
      return new SocketError("TLS", message, err);
    }
  }
  if (/failed to lookup address|Name or service not known|nodename nor servname|No address associated/i.test(message)) {
    return new SocketError("ENOTFOUND", message, err);
  }
  if (name === "NotFound") return new SocketError("ENOTFOUND", message, err);
  return new SocketError(fallback, message || `Socket failed (${name || "unknown error"})`, err);
}

function abortedError(signal: AbortSignal): SocketError {
  return new SocketError("ABORTED", "The connection attempt was aborted", signal.reason);
}

function closeQuietly(conn: DenoConn): void {
  try {
    conn.close();
  } catch {
    // BadResource: already closed
  }
}

/**
 * Runs `Deno.startTls` and the handshake; closes the connection on any failure. `stop`
 * cancels it from inside the adapter (an `abort()` during the upgrade).
 */
async function upgrade(conn: DenoConn, params: TlsParams, target: string, stop?: AbortSignal): Promise<DenoTlsConn> {
  const signals = [params.signal, stop].filter((s): s is AbortSignal => s !== undefined);
  const stopped = (): AbortSignal | undefined => signals.find((s) => s.aborted);
  const early = stopped();
  if (early) {
    closeQuietly(conn);
    throw abortedError(early);
  }
  let tls: DenoTlsConn;
  try {
    tls = await denoGlobal().startTls(conn, {
      hostname: params.servername,
      ...(params.ca && params.ca.length > 0 ? { caCerts: params.ca } : {}),
    });
  } catch (err) {
    closeQuietly(conn);
    throw normalise(err, target, "TLS");
  }
  // startTls resolves before the handshake; certificate errors surface only here.
  let onAbort: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onAbort = () => {
        closeQuietly(tls);
        reject(abortedError(stopped() ?? signals[0]!));
      };
      if (stopped()) return onAbort();
      for (const s of signals) s.addEventListener("abort", onAbort, { once: true });
      tls.handshake().then(
        () => resolve(),
        (err) => reject(normalise(err, target, "TLS")),
      );
    });
  } catch (err) {
    closeQuietly(tls);
    throw err;
  } finally {
    for (const s of signals) if (onAbort) s.removeEventListener("abort", onAbort);
  }
  return tls;
}

/** One {@link SmtpSocket} over a Deno connection (plain or TLS). */
class DenoSmtpSocket implements SmtpSocket {
  private readonly buffer = new Uint8Array(READ_SIZE);
  private closed = false;
  private aborted = false;
  private abortReason: unknown;
  /** Set once `startTls` took the connection over. */
  private replaced = false;
  private pendingRead: { resolve(value: null): void; reject(reason: unknown): void } | undefined;
  /** Cancels an upgrade in progress when this socket is aborted. */
  private upgradeStop: AbortController | undefined;
  private pendingWrite: { reject(reason: unknown): void } | undefined;

  constructor(
    private readonly conn: DenoConn,
    readonly secure: boolean,
    private readonly target: string,
  ) {}

  read(): Promise<Uint8Array | null> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closed) return Promise.resolve(null);
    if (this.pendingRead) return Promise.reject(new SocketError("UNKNOWN", "A read is already in flight"));
    return new Promise<Uint8Array | null>((resolve, reject) => {
      this.pendingRead = { resolve, reject };
      this.conn.read(this.buffer).then(
        (n) => {
          if (this.pendingRead?.reject !== reject) return; // settled by abort/close
          this.pendingRead = undefined;
          // Copy out: the buffer is reused by the next read.
          resolve(n === null ? null : this.buffer.slice(0, n));
        },
        (err) => {
          if (this.pendingRead?.reject !== reject) return;
          this.pendingRead = undefined;
          if (this.closed) resolve(null);
          else reject(normalise(err, this.target, this.secure ? "TLS" : "UNKNOWN"));
        },
      );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.aborted) return Promise.reject(this.abortReason);
    if (this.replaced) return Promise.reject(new SocketError("UNKNOWN", "This socket was upgraded to TLS; use the new one"));
    if (this.closed) return Promise.reject(new SocketError("ECONNRESET", "The socket is closed"));
    if (this.pendingWrite) return Promise.reject(new SocketError("UNKNOWN", "A write is already in flight"));
    return new Promise<void>((resolve, reject) => {
      const pending = { reject };
      this.pendingWrite = pending;
      const loop = async (): Promise<void> => {
        let offset = 0;
        // Deno may accept only part of the buffer: keep offering the rest.
        while (offset < bytes.byteLength) {
          const n = await this.conn.write(bytes.subarray(offset));
          if (this.pendingWrite !== pending) return;
          offset += n;
        }
      };
      loop().then(
        () => {
          if (this.pendingWrite !== pending) return;
          this.pendingWrite = undefined;
          resolve();
        },
        (err) => {
          if (this.pendingWrite !== pending) return;
          this.pendingWrite = undefined;
          reject(
            this.closed
              ? new SocketError("ECONNRESET", "The socket was closed while writing", err)
              : normalise(err, this.target, this.secure ? "TLS" : "ECONNRESET"),
          );
        },
      );
    });
  }

  async startTls(params: TlsParams): Promise<SmtpSocket> {
    if (this.aborted) throw this.abortReason;
    if (this.replaced || this.closed) {
      throw new SocketError("UNKNOWN", "This socket cannot be upgraded (already upgraded or closed)");
    }
    if (this.secure) throw new SocketError("TLS", "The socket is already encrypted");
    if (this.pendingRead || this.pendingWrite) {
      // Deno would fail with Busy and consume the connection.
      throw new SocketError("UNKNOWN", "startTls was called with a read or write in flight");
    }
    this.replaced = true;
    this.upgradeStop = new AbortController();
    try {
      const tls = await upgrade(this.conn, params, this.target, this.upgradeStop.signal);
      return new DenoSmtpSocket(tls, true, this.target);
    } catch (err) {
      this.closed = true;
      throw this.aborted ? this.abortReason : err;
    } finally {
      this.upgradeStop = undefined;
    }
  }

  close(): Promise<void> {
    if (this.replaced || this.closed) return Promise.resolve();
    this.closed = true;
    // Deno's close is synchronous; a second close would throw BadResource.
    closeQuietly(this.conn);
    const read = this.pendingRead;
    this.pendingRead = undefined;
    read?.resolve(null);
    const write = this.pendingWrite;
    this.pendingWrite = undefined;
    write?.reject(new SocketError("ECONNRESET", "The socket was closed while writing"));
    return Promise.resolve();
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
      // Mid-upgrade: cancel the handshake (upgrade() closes the TLS connection). After a
      // successful upgrade the TLS socket owns the connection, so this is a no-op.
      this.upgradeStop?.abort(this.abortReason);
      return;
    }
    if (!this.closed) {
      this.closed = true;
      closeQuietly(this.conn);
    }
  }

  tlsInfo(): TlsInfo | undefined {
    // Deno's handshake info carries only the ALPN protocol.
    return this.secure ? {} : undefined;
  }
}

async function connect(params: ConnectParams): Promise<SmtpSocket> {
  const deno = denoGlobal();
  const { signal } = params;
  const target = `${params.hostname}:${params.port}`;
  if (signal?.aborted) throw abortedError(signal);
  let conn: DenoConn;
  try {
    conn = await deno.connect({
      hostname: params.hostname,
      port: params.port,
      transport: "tcp",
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw abortedError(signal);
    throw normalise(err, target);
  }
  if (params.tls !== "on") return new DenoSmtpSocket(conn, false, target);
  const tlsParams: TlsParams = { servername: params.servername };
  if (params.ca) tlsParams.ca = params.ca;
  if (signal) tlsParams.signal = signal;
  const tls = await upgrade(conn, tlsParams, target);
  return new DenoSmtpSocket(tls, true, target);
}

/**
 * The connector for Deno, on `Deno.connect` and `Deno.startTls`. Extra CAs (`ca`) are
 * added to Deno's default roots for that connection; `servername` may differ from the
 * dialled host.
 */
export const denoConnector: Connector = {
  name: "deno",
  capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
  connect,
};
