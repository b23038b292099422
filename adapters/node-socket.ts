/**
 * The Node.js socket implementation behind {@link nodeConnector} (./node.ts), which loads
 * this module on the first connect: `node:net` and `node:tls` sockets behind the core's
 * pull-based {@link SmtpSocket} interface. It only moves bytes; the core does the SMTP.
 *
 * @module
 */

import type { Socket } from "node:net";
import type { ConnectionOptions, PeerCertificate, TLSSocket } from "node:tls";
import type {
  ConnectParams,
  SmtpSocket,
  SocketError,
  SocketErrorKind,
  TlsInfo,
  TlsParams,
} from "../src/socket.ts";

type NetModule = typeof import("node:net");
type TlsModule = typeof import("node:tls");
type OsModule = typeof import("node:os");
interface Builtins {
  net: NetModule;
  tls: TlsModule;
  os: OsModule;
}

// The core's SocketError class, handed over by ./node.ts when it loads this module:
// imported here, esbuild would put it in a chunk of its own, one more file to load on
// every import of the package.
let SocketErrorClass: typeof SocketError;

/** Gives this module the core's `SocketError` class; ./node.ts calls it once, right after loading. */
export function useSocketError(socketError: typeof SocketError): void {
  SocketErrorClass = socketError;
}

// node:net, node:tls and node:os load with this module, on the first connect.
let builtins: Promise<Builtins> | undefined;
let loaded: Builtins | undefined;

function loadBuiltins(): Promise<Builtins> {
  builtins ??= Promise.all([import("node:net"), import("node:tls"), import("node:os")]).then(([net, tls, os]) => {
    loaded = { net, tls, os };
    return loaded;
  });
  return builtins;
}

/** 4 or 6 for an IP literal, 0 for a name (the same answer as node:net's isIP for valid input). */
function isIP(value: string): 0 | 4 | 6 {
  if (/^(?:\d{1,3}\.){3}\d{1,3}$/.test(value)) return 4;
  return value.includes(":") ? 6 : 0;
}

/** Above this many queued unread bytes the socket is paused until the core catches up. */
const HIGH_WATER_MARK = 1024 * 1024;
/** Writes at least this long (message body chunks) are not corked. */
const LARGE_WRITE = 16 * 1024;
/** How long `close()` waits for the peer to finish before destroying the socket. */
const CLOSE_GRACE_MS = 1500;

/** OpenSSL certificate-verification codes that mean "this chain is not trusted". */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "UNABLE_TO_GET_CRL",
  "UNABLE_TO_DECRYPT_CRL_SIGNATURE",
  "CERT_SIGNATURE_FAILURE",
  "CRL_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "CRL_NOT_YET_VALID",
  "CRL_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "ERROR_IN_CRL_LAST_UPDATE_FIELD",
  "ERROR_IN_CRL_NEXT_UPDATE_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);

/** What error messages say about the connection. */
interface Context {
  host: string;
  port: number;
  /** The name the certificate is checked against, for TLS messages. */
  servername: string;
  /** What was going on: dialling, the TLS handshake, or established traffic. */
  stage: "connect" | "handshake" | "io";
}

// ---------------------------------------------------------------------------------------
// Error normalisation

/** `host:port`, with brackets around an IPv6 literal. */
function address(ctx: Context): string {
  return isIP(ctx.host) === 6 ? `[${ctx.host}]:${ctx.port}` : `${ctx.host}:${ctx.port}`;
}

/** The runtime's error code, looking inside an AggregateError (happy-eyeballs dialling). */
function codeOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code;
  const inner = (err as { errors?: unknown }).errors;
  if (Array.isArray(inner)) {
    for (const e of inner) {
      const c = codeOf(e);
      if (c !== undefined) return c;
    }
  }
  return undefined;
}

/** A one-line description of the runtime's error, without a final period. */
function detailOf(err: unknown): string {
  if (typeof err === "object" && err !== null) {
    // OpenSSL errors carry a readable `reason` ("wrong version number"); their message is a dump.
    const reason = (err as { reason?: unknown }).reason;
    if (typeof reason === "string" && reason !== "") return tidy(reason);
    const message = (err as { message?: unknown }).message;
    if (typeof message === "string" && message !== "") return tidy(message);
  }
  return tidy(String(err));
}

function tidy(text: string): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.trim().replace(/\.+$/, "");
}

/** Turns whatever Node threw into a {@link SocketError}, keeping the original as `cause`. */
function normalize(err: unknown, ctx: Context): SocketError {
  if (err instanceof SocketErrorClass) return err;
  const code = codeOf(err);
  const where = `"${address(ctx)}"`;
  const tagged = (text: string): string => (code ? `${text} (${code})` : text);
  const make = (kind: SocketErrorKind, message: string): SocketError =>
    new SocketErrorClass(kind, message, err);

  switch (code) {
    case "ECONNREFUSED":
      return make("ECONNREFUSED", `Connection to ${where} was refused`);
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_FAIL":
    case "EAI_NONAME":
    case "EAI_NODATA":
      return make("ENOTFOUND", tagged(`Host "${ctx.host}" could not be resolved`));
    case "ETIMEDOUT":
      return make("ETIMEDOUT", tagged(`Connection to ${where} timed out`));
    case "ECONNRESET":
    case "EPIPE":
      return make(
        "ECONNRESET",
        ctx.stage === "handshake"
          ? tagged(`Connection to ${where} was closed by the server during the TLS handshake`)
          : tagged(`Connection to ${where} was reset`),
      );
    case "ABORT_ERR":
      return make("ABORTED", `Connection to ${where} was aborted`);
    case "ERR_TLS_CERT_ALTNAME_INVALID":
    case "HOSTNAME_MISMATCH":
      return make(
        "TLS_HOSTNAME",
        tagged(`Certificate of ${where} is not valid for "${ctx.servername}": ${detailOf(err)}`),
      );
  }
  if (code !== undefined && UNTRUSTED_CODES.has(code)) {
    return make(
      "TLS_UNTRUSTED",
      tagged(`Certificate of ${where} is not trusted: ${detailOf(err)}`),
    );
  }
  if (
    code !== undefined &&
    (code.startsWith("ERR_SSL_") || code.startsWith("ERR_TLS_") || code === "EPROTO")
  ) {
    const what = ctx.stage === "io" ? `TLS error on the connection to ${where}` : `TLS handshake with ${where} failed`;
    return make("TLS", tagged(`${what}: ${detailOf(err)}`));
  }
  return make("UNKNOWN", tagged(`Connection to ${where} failed: ${detailOf(err)}`));
}

function abortedError(ctx: Context): SocketError {
  const what = ctx.stage === "connect" ? "Connection to" : "TLS handshake with";
  return new SocketErrorClass("ABORTED", `${what} "${address(ctx)}" was aborted`);
}

// ---------------------------------------------------------------------------------------
// TLS options

/** Removes the brackets of an IPv6 literal written as `[::1]`. */
function bare(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * TLS options that verify the peer against `name`. A DNS name is sent as SNI; an IP literal
 * is not (RFC 6066, Node's DEP0123) and is checked against the certificate's IP SANs. The
 * identity check is pinned to `name` so that Node's fallbacks (the dialled host, or
 * `"localhost"` for a wrapped socket) never decide it.
 */
function tlsOptions(name: string, ca: string[] | undefined): ConnectionOptions {
  const options: ConnectionOptions = {
    minVersion: "TLSv1.2",
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => (loaded as { tls: TlsModule }).tls.checkServerIdentity(name, cert),
  };
  if (isIP(name) === 0) options.servername = name;
  if (ca !== undefined && ca.length > 0) options.ca = ca;
  return options;
}

/**
 * Waits for `ready` on a freshly created socket, turning errors, an early `close` and the
 * abort signal into a {@link SocketError}. `wrap` runs synchronously inside the event so no
 * event can slip between the handshake and the adapter's own listeners.
 */
function establish(
  socket: Socket,
  ready: "connect" | "secureConnect",
  ctx: Context,
  signal: AbortSignal | undefined,
  wrap: (socket: Socket) => SmtpSocket,
): Promise<SmtpSocket> {
  return new Promise<SmtpSocket>((resolve, reject) => {
    let aborted = false;
    const cleanup = (): void => {
      socket.off(ready, onReady);
      socket.off("error", onError);
      socket.off("close", onClose);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (error: SocketError): void => {
      cleanup();
      // Swallow anything Node emits while tearing down.
      socket.on("error", ignore);
      socket.destroy();
      reject(error);
    };
    const onReady = (): void => {
      cleanup();
      resolve(wrap(socket));
    };
    const onError = (err: unknown): void => fail(normalize(err, ctx));
    // destroy() during a handshake emits 'close' without 'error'.
    const onClose = (): void =>
      fail(
        aborted
          ? abortedError(ctx)
          : new SocketErrorClass(
              "ECONNRESET",
              ctx.stage === "connect"
                ? `Connection to "${address(ctx)}" closed before it was established`
                : `Connection to "${address(ctx)}" closed during the TLS handshake`,
            ),
      );
    const onAbort = (): void => {
      aborted = true;
      fail(abortedError(ctx));
    };
    socket.once(ready, onReady);
    socket.on("error", onError);
    socket.on("close", onClose);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function ignore(): void {}

// ---------------------------------------------------------------------------------------
// The socket

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/** One Node socket (plain or TLS) behind the pull-based {@link SmtpSocket} interface. */
class NodeSmtpSocket implements SmtpSocket {
  readonly #socket: Socket;
  readonly #ctx: Context;
  readonly #secure: boolean;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  /** Peer sent FIN, or the socket closed without an error: reads return null. */
  #eof = false;
  /** The socket is gone (closed or destroyed); writes fail. */
  #closed = false;
  /** Set once: every later read (after queued data) and write rejects with it. */
  #failure: unknown = undefined;
  /** The TCP connection now belongs to a TLS socket; this object must not touch it. */
  #detached = false;
  /** `close()` was called: reads return null, writes fail, incoming data is dropped. */
  #closeCalled = false;
  #closing: Promise<void> | undefined;
  #reader: Waiter<Uint8Array | null> | undefined;
  readonly #writers = new Set<Waiter<void>>();
  readonly #closeWaiters: (() => void)[] = [];
  /** Writes are being gathered until the current tick ends (see `write`). */
  #corked = false;

  readonly #onData = (chunk: Buffer): void => {
    if (this.#closeCalled) return; // closing: drain to EOF, keep nothing
    // A plain Uint8Array view (no copy), so callers never meet Buffer's `slice` semantics.
    const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#reader) {
      const reader = this.#reader;
      this.#reader = undefined;
      reader.resolve(bytes);
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    if (this.#queued > HIGH_WATER_MARK && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.#eof = true;
    this.#settleReader();
  };

  readonly #onError = (err: unknown): void => {
    this.#fail(normalize(err, this.#ctx));
  };

  readonly #onDrain = (): void => {
    const writers = [...this.#writers];
    this.#writers.clear();
    for (const w of writers) w.resolve();
  };

  readonly #uncork = (): void => {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    this.#eof = true;
    this.#settleReader();
    const pending = this.#failure ?? new SocketErrorClass("EOF", `Connection to "${address(this.#ctx)}" closed before the data was sent`);
    this.#rejectWriters(pending);
    for (const done of this.#closeWaiters.splice(0)) done();
  };

  constructor(socket: Socket, ctx: Context, secure: boolean) {
    this.#socket = socket;
    this.#ctx = { ...ctx, stage: "io" };
    this.#secure = secure;
    socket.on("data", this.#onData);
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("drain", this.#onDrain);
    socket.on("close", this.#onClose);
    if (socket.destroyed) this.#onClose();
  }

  /** True for implicit TLS and for the socket returned by `startTls`. */
  get secure(): boolean {
    return this.#secure;
  }

  read(): Promise<Uint8Array | null> {
    if (this.#reader) {
      return Promise.reject(new SocketErrorClass("UNKNOWN", "A read is already pending on this socket"));
    }
    const next = this.#queue.shift();
    if (next !== undefined) {
      this.#queued -= next.byteLength;
      if (this.#paused && this.#queued <= HIGH_WATER_MARK / 2 && !this.#closed) {
        this.#paused = false;
        this.#socket.resume();
      }
      return Promise.resolve(next);
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#eof || this.#closeCalled) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#reader = { resolve, reject };
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed || this.#closeCalled) {
      return Promise.reject(new SocketErrorClass("EOF", `Connection to "${address(this.#ctx)}" is closed`));
    }
    return new Promise<void>((resolve, reject) => {
      // The contract: once this resolves, the caller may reuse `bytes` (the core does, for
      // large chunks). Node keeps a reference to what it has not yet handed to the kernel.
      try {
        if (bytes.length >= LARGE_WRITE) {
          const waiter: Waiter<void> = { resolve, reject };
          // A body chunk leaves now, after anything corked before it: nothing would join it.
          // The callback runs once the bytes are with the kernel ('error' and 'close'
          // reject the waiter otherwise).
          this.#socket.write(bytes, (err) => {
            if (err) return;
            this.#writers.delete(waiter);
            resolve();
          });
          this.#uncork();
          // The kernel took every byte at once: nothing is held, no need to wait a tick.
          if (this.#socket.writableLength === 0) resolve();
          else this.#writers.add(waiter);
          return;
        }
        // Writes made in one tick (one message's body and the next one's pipelined
        // envelope, say) leave in one system call: corked here, sent when the tick's work
        // is done. Node holds them until then, so it gets a copy (they are small).
        if (!this.#corked) {
          this.#corked = true;
          this.#socket.cork();
          process.nextTick(this.#uncork);
        }
        if (this.#socket.write(bytes.slice())) resolve();
        else this.#writers.add({ resolve, reject });
      } catch (err) {
        reject(normalize(err, this.#ctx));
      }
    });
  }

  startTls(params: TlsParams): Promise<SmtpSocket> {
    const ctx: Context = { ...this.#ctx, servername: params.servername || this.#ctx.host, stage: "handshake" };
    if (this.#secure) {
      return Promise.reject(new SocketErrorClass("UNKNOWN", "The connection is already secured by TLS"));
    }
    if (this.#reader) {
      return Promise.reject(new SocketErrorClass("UNKNOWN", "Cannot start TLS while a read is pending"));
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#eof || this.#closed || this.#closeCalled) {
      return Promise.reject(new SocketErrorClass("EOF", `Connection to "${address(ctx)}" closed before TLS could start`));
    }
    const leftover = this.#queued + this.#socket.readableLength;
    const plain = this.#socket;
    this.#detach();
    if (leftover > 0) {
      plain.destroy();
      return Promise.reject(
        new SocketErrorClass(
          "UNKNOWN",
          `Refusing to start TLS with "${leftover}" bytes of unread plaintext from "${address(ctx)}"`,
        ),
      );
    }
    let tlsSocket: TLSSocket;
    try {
      tlsSocket = (loaded as { tls: TlsModule }).tls.connect({
        ...tlsOptions(ctx.servername, params.ca),
        socket: plain,
        ...(isIP(ctx.servername) !== 0 ? { host: ctx.servername } : {}),
      });
    } catch (err) {
      plain.destroy();
      return Promise.reject(normalize(err, ctx));
    }
    return establish(tlsSocket, "secureConnect", ctx, params.signal, (s) => new NodeSmtpSocket(s, ctx, true));
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closeCalled = true;
    this.#closing = new Promise<void>((resolve) => {
      // Nothing more will be read: free the queue and let the socket run to EOF.
      this.#queue = [];
      this.#queued = 0;
      this.#settleReader();
      if (this.#detached || this.#closed) {
        resolve();
        return;
      }
      const socket = this.#socket;
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
      this.#closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (this.#paused) {
        this.#paused = false;
        socket.resume();
      }
      try {
        socket.end();
      } catch {
        socket.destroy();
      }
    });
    return this.#closing;
  }

  abort(reason?: unknown): void {
    try {
      const error =
        reason === undefined
          ? new SocketErrorClass("ABORTED", `Connection to "${address(this.#ctx)}" was aborted`)
          : reason instanceof Error
            ? reason
            : new SocketErrorClass("ABORTED", `Connection to "${address(this.#ctx)}" was aborted`, reason);
      this.#queue = [];
      this.#queued = 0;
      if (this.#failure === undefined) this.#failure = error;
      const reader = this.#reader;
      this.#reader = undefined;
      reader?.reject(error);
      this.#rejectWriters(error);
      if (!this.#detached) this.#socket.destroy();
    } catch {
      // abort never throws
    }
  }

  tlsInfo(): TlsInfo | undefined {
    if (!this.#secure || this.#detached) return undefined;
    const socket = this.#socket as TLSSocket;
    const info: TlsInfo = {};
    const protocol = socket.getProtocol();
    if (protocol) info.protocol = protocol;
    const cipher = socket.getCipher()?.name;
    if (cipher) info.cipher = cipher;
    return info;
  }

  /** Resolves a pending read with the next state: queued data is not possible here. */
  #settleReader(): void {
    const reader = this.#reader;
    if (!reader) return;
    if (this.#failure !== undefined) {
      this.#reader = undefined;
      reader.reject(this.#failure);
    } else if (this.#eof || this.#closeCalled) {
      this.#reader = undefined;
      reader.resolve(null);
    }
  }

  #rejectWriters(reason: unknown): void {
    const writers = [...this.#writers];
    this.#writers.clear();
    for (const w of writers) w.reject(reason);
  }

  #fail(error: unknown): void {
    if (this.#failure === undefined) this.#failure = error;
    this.#settleReader();
    this.#rejectWriters(this.#failure);
  }

  /** Hands the TCP connection over to TLS: this object goes dead, the socket lives on. */
  #detach(): void {
    this.#uncork(); // what was written goes out before TLS takes the connection over
    const socket = this.#socket;
    socket.off("data", this.#onData);
    socket.off("end", this.#onEnd);
    socket.off("error", this.#onError);
    socket.off("drain", this.#onDrain);
    socket.off("close", this.#onClose);
    // Node may still emit errors on the wrapped socket; never let them crash the process.
    socket.on("error", ignore);
    this.#detached = true;
    this.#queue = [];
    this.#queued = 0;
    this.#fail(new SocketErrorClass("UNKNOWN", "This socket was upgraded to TLS and can no longer be used"));
    for (const done of this.#closeWaiters.splice(0)) done();
  }
}

// ---------------------------------------------------------------------------------------
// What nodeConnector (./node.ts) calls

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * The machine's host name when it is a fully qualified domain name, else `undefined`
 * (also before the first connect has loaded node:os; the session asks after connecting).
 */
export function defaultClientName(): string | undefined {
  if (loaded === undefined) return undefined;
  let name: string;
  try {
    name = loaded.os.hostname();
  } catch {
    return undefined;
  }
  if (name.endsWith(".")) name = name.slice(0, -1);
  if (name.length > 253 || !name.includes(".") || isIP(name) !== 0) return undefined;
  return name.split(".").every((label) => LABEL.test(label)) ? name : undefined;
}

/** Opens a socket, as `nodeConnector.connect` documents (./node.ts). */
export async function connect(params: ConnectParams): Promise<SmtpSocket> {
  const { net, tls } = await loadBuiltins();
  return open(net, tls, params);
}

function open(net: NetModule, tls: TlsModule, params: ConnectParams): Promise<SmtpSocket> {
  const host = bare(params.hostname);
  const ctx: Context = {
    host,
    port: params.port,
    servername: bare(params.servername || params.hostname),
    stage: "connect",
  };
  if (params.signal?.aborted) return Promise.reject(abortedError(ctx));
  let socket: Socket;
  try {
    if (params.tls === "on") {
      socket = tls.connect({
        ...tlsOptions(ctx.servername, params.ca),
        host,
        port: params.port,
      });
    } else {
      socket = net.connect({ host, port: params.port, allowHalfOpen: true, noDelay: true });
    }
  } catch (err) {
    return Promise.reject(normalize(err, ctx));
  }
  socket.setNoDelay(true);
  const secure = params.tls === "on";
  if (secure) {
    // The TCP connect and the handshake share one signal and one error path; messages
    // name the handshake once the TCP connection is up.
    socket.once("connect", () => {
      ctx.stage = "handshake";
    });
  }
  return establish(socket, secure ? "secureConnect" : "connect", ctx, params.signal, (s) => new NodeSmtpSocket(s, ctx, secure));
}
