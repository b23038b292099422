/**
 * The part of the Workers runtime module `cloudflare:sockets` that the Cloudflare adapter
 * uses, declared here so the adapter type-checks without `@cloudflare/workers-types`.
 */
declare module "cloudflare:sockets" {
  /** Where to connect. */
  export interface SocketAddress {
    hostname: string;
    port: number;
  }

  /** Options of `connect()`. */
  export interface SocketOptions {
    secureTransport?: "off" | "on" | "starttls";
    allowHalfOpen?: boolean;
  }

  /** What `opened` resolves with. */
  export interface SocketInfo {
    remoteAddress?: string;
    localAddress?: string;
  }

  /** A TCP socket in a Worker. */
  export interface Socket {
    readonly readable: ReadableStream<Uint8Array>;
    readonly writable: WritableStream<Uint8Array>;
    readonly opened: Promise<SocketInfo>;
    readonly closed: Promise<void>;
    close(): Promise<void>;
    startTls(options?: { expectedServerHostname?: string }): Socket;
  }

  /** Opens a socket; it returns at once and `opened` settles later. */
  export function connect(address: SocketAddress | string, options?: SocketOptions): Socket;
}
