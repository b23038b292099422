/**
 * The contract between the runtime-agnostic core and a runtime adapter.
 *
 * The core owns framing, parsing, timeouts and aborts; an adapter only moves bytes. Reads
 * are pull-based with a single reader and no read-ahead, because Deno's `startTls` fails
 * and workerd's hangs when a read is pending at the upgrade.
 *
 * @module
 */

/** How the connection is secured: `"on"` is implicit TLS, `"starttls"` upgrades later. */
export type TlsMode = "off" | "on" | "starttls";

/** What the TLS layer needs to verify the server. */
export interface TlsParams {
  /** The name to verify the certificate against and to send as SNI (an IP verifies the IP SAN). */
  servername: string;
  /** Extra trusted CA certificates in PEM form (a private CA); the system roots are used without it. */
  ca?: string[];
  /** Cancels the handshake. */
  signal?: AbortSignal;
}

/** What a connector needs to open a socket. */
export interface ConnectParams {
  /** Host name or IP literal to dial. */
  hostname: string;
  /** TCP port, 1 to 65535. */
  port: number;
  /** Known at connect time because Cloudflare only allows an upgrade on a `"starttls"` socket. */
  tls: TlsMode;
  /** The name to verify and send as SNI when `tls` is `"on"` (and later on upgrade). */
  servername: string;
  /** Extra trusted CA certificates in PEM form. */
  ca?: string[];
  /** Cancels the connect and, with `tls: "on"`, the handshake. */
  signal?: AbortSignal;
}

/** Facts about an established TLS session, where the runtime exposes them. */
export interface TlsInfo {
  /** Negotiated protocol, for example `"TLSv1.3"`, when known. */
  protocol?: string;
  /** Negotiated cipher name, when known. */
  cipher?: string;
}

/** A connected duplex byte stream. */
export interface SmtpSocket {
  /** True once the stream is encrypted (implicit TLS or after `startTls`). */
  readonly secure: boolean;
  /** Next chunk, or `null` at EOF. The core never has two reads outstanding. */
  read(): Promise<Uint8Array | null>;
  /**
   * Resolves when the runtime has accepted every byte: this is where backpressure lives.
   * Once it resolves the adapter holds no reference to `bytes`, so the caller may reuse
   * the array (the core writes large attachments from one reused buffer): an adapter
   * whose runtime keeps the array until later must copy it, or wait.
   */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Upgrades to TLS and resolves after the handshake. The returned socket replaces this
   * one, which must not be used again. Precondition: no read in flight.
   */
  startTls(params: TlsParams): Promise<SmtpSocket>;
  /** Graceful close, bounded in time by the adapter. Idempotent; never rejects. */
  close(): Promise<void>;
  /** Immediate teardown; a pending `read()` rejects with `reason`. Idempotent; never throws. */
  abort(reason?: unknown): void;
  /** TLS session facts, when `secure` and the runtime exposes them. */
  tlsInfo?(): TlsInfo | undefined;
}

/** What a connector reports about its runtime's abilities. */
export interface ConnectorCapabilities {
  /** Whether `ca` can be given per connection (false on Cloudflare Workers). */
  perSocketCa: boolean;
  /** Whether `servername` may differ from the dialled host (false on Cloudflare Workers). */
  servernameDiffersFromHost: boolean;
}

/** Opens sockets for one runtime. */
export interface Connector {
  /** Short runtime name, for messages: `"node"`, `"bun"`, `"deno"`, `"cloudflare"`. */
  readonly name: string;
  /** What this runtime can and cannot do. */
  readonly capabilities: ConnectorCapabilities;
  /** Opens a socket; rejects with a {@link SocketError}. */
  connect(params: ConnectParams): Promise<SmtpSocket>;
  /** A default EHLO name for this machine, when the runtime can tell one. */
  defaultClientName?(): string | undefined;
}

/** The normalised reason a socket operation failed. */
export type SocketErrorKind =
  | "ECONNREFUSED"
  | "ENOTFOUND"
  | "ETIMEDOUT"
  | "ECONNRESET"
  | "EOF"
  | "TLS_UNTRUSTED"
  | "TLS_HOSTNAME"
  | "TLS"
  | "ABORTED"
  | "UNKNOWN";

/**
 * An adapter-level failure, normalised across runtimes. The core turns it into an
 * `SmtpError` with the SMTP phase attached; the runtime's own error stays in `cause`.
 */
export class SocketError extends Error {
  /** The normalised kind. */
  readonly kind: SocketErrorKind;

  /** @param kind normalised kind; @param message human text; @param cause the runtime's error */
  constructor(kind: SocketErrorKind, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "SocketError";
    this.kind = kind;
  }
}
