/**
 * The Node.js socket adapter: {@link nodeConnector} opens SMTP sockets with `node:net` and
 * `node:tls`. It only moves bytes; the core does the SMTP.
 *
 * Certificates are always verified. A `ca` list, when given, *replaces* Node's built-in root
 * store for that connection (Node's own semantics), which suits the intended use: a private
 * CA for a private server.
 *
 * @module
 */

import { type ConnectParams, type Connector, type SmtpSocket, SocketError } from "../src/socket.ts";

type Implementation = typeof import("./node-socket.ts");

// The socket code and node:net, node:tls and node:os load on the first connect, not at
// import: an edge function or a CLI that imports the package without sending pays nothing
// for them (the socket code is about a third of what importing the package compiled).
let loading: Promise<Implementation> | undefined;
let implementation: Implementation | undefined;

function load(): Promise<Implementation> {
  // A failed load (a missing file in a broken install) is not kept, so a retry can succeed.
  loading ??= import("./node-socket.ts").then(
    (module) => {
      module.useSocketError(SocketError);
      implementation = module;
      return module;
    },
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/**
 * The Node.js connector (`node:net` and `node:tls`); also runs on Bun and Deno through their
 * Node compatibility layers.
 *
 * - Certificates are always verified, with TLS 1.2 as the minimum; there is no switch to
 *   turn verification off.
 * - `ca`, when given and non-empty, replaces Node's default root store for that connection.
 * - A DNS `servername` is sent as SNI and verified; an IP literal is verified against the
 *   certificate's IP SANs and sent without SNI. `servername` may differ from `hostname`.
 * - Failures reject with a {@link SocketError}; the Node error is its `cause`.
 * - `defaultClientName()` is the machine's host name when it is a fully qualified domain
 *   name, else `undefined` (also before the first connect, which loads what it needs; the
 *   session asks after connecting).
 */
export const nodeConnector: Connector = {
  name: "node",
  capabilities: { perSocketCa: true, servernameDiffersFromHost: true },
  async connect(params: ConnectParams): Promise<SmtpSocket> {
    return (await load()).connect(params);
  },
  defaultClientName(): string | undefined {
    return implementation?.defaultClientName();
  },
};
