/**
 * End-to-end fixtures: a real `smtp-server` on 127.0.0.1 (port 0) that records every
 * message and AUTH attempt, and a raw `net` server for scripted, byte-exact protocol tests.
 *
 * smtp-server implements PLAIN, LOGIN, CRAM-MD5 and XOAUTH2; this harness adds OAUTHBEARER
 * (RFC 7628) to it, written from the RFC (see {@link parseOAuthBearer}).
 *
 * @module
 */

import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import sasl from "smtp-server/lib/sasl.js";
import { getTestCerts } from "./certs.ts";

/** A reply a rejection hook returns: the SMTP code and text the server sends. */
export interface Rejection {
  /** Reply code, for example 550 or 451. */
  code: number;
  /** Reply text. */
  message: string;
}

/** How the test server behaves. */
export interface TestServerOptions {
  /** `"plain"`: STARTTLS not offered; `"starttls"` (default): offered; `"tls"`: implicit TLS. */
  mode?: "plain" | "starttls" | "tls";
  /** Which certificate the server presents; `"ca"` (signed by the test CA) by default. */
  cert?: "ca" | "self-signed" | "wrong-host";
  /** Offered SASL mechanisms; `["PLAIN", "LOGIN"]` by default. */
  authMethods?: string[];
  /** Accepted credentials; `{ "user@example.com": "secret" }` by default. Also checked for CRAM-MD5. */
  users?: Record<string, string>;
  /** Accepted OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER) per user name; none by default. */
  tokens?: Record<string, string>;
  /**
   * The JSON a refused token draws in the 334 error challenge; by default Gmail's
   * `{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`.
   */
  oauthError?: Record<string, string>;
  /** AUTH is not offered at all, and mail is accepted without it. */
  noAuth?: boolean;
  /** Mail is accepted without AUTH although AUTH is offered (default false: AUTH required). */
  authOptional?: boolean;
  /** Allow AUTH before TLS; default true for `"plain"`, false otherwise. */
  allowInsecureAuth?: boolean;
  /** SIZE limit, advertised in EHLO and enforced (MAIL FROM SIZE= and the received body). */
  size?: number;
  /** Refuse a sender by returning the reply to send. */
  rejectSender?: (address: string) => Rejection | undefined;
  /** Refuse a recipient by returning the reply to send. */
  rejectRecipient?: (address: string) => Rejection | undefined;
  /** Refuse the message after its final dot by returning the reply to send. */
  rejectData?: () => Rejection | undefined;
}

/** One accepted message, as the server received it. */
export interface CapturedMessage {
  /** The message bytes exactly as received, after smtp-server removed the dot-stuffing. */
  raw: Buffer;
  /** Envelope sender. */
  mailFrom: string;
  /** Envelope recipients, in order. */
  rcptTo: string[];
  /** The message parsed by mailparser. */
  parsed: ParsedMail;
  /** Whether the session was encrypted. */
  secure: boolean;
  /** The authenticated user, if any. */
  user?: string;
}

/** One AUTH attempt the server saw. */
export interface AuthAttempt {
  /** SASL mechanism, upper case. */
  method: string;
  /** The user name given. */
  username: string;
  /** Whether the credentials matched. */
  success: boolean;
  /** Whether the session was encrypted at the time. */
  secure: boolean;
  /** The bearer token given (XOAUTH2 and OAUTHBEARER only). */
  accessToken?: string;
  /** The `host` the client reported (OAUTHBEARER only). */
  host?: string;
  /** The `port` the client reported (OAUTHBEARER only). */
  port?: string;
}

/** A running test server. */
export interface TestServer {
  /** Always the IPv4 loopback. */
  host: "127.0.0.1";
  /** The port the server listens on. */
  port: number;
  /** The test CA's certificate, to trust with `ca`. */
  caPem: string;
  /** Accepted messages, in arrival order. */
  messages: CapturedMessage[];
  /** AUTH attempts, in order. */
  authAttempts: AuthAttempt[];
  /** Connections seen so far. */
  readonly sessions: number;
  /** Errors smtp-server reported (client resets, TLS failures); useful when a test fails. */
  errors: Error[];
  /** Resolves once at least `n` messages arrived; rejects after `timeoutMs` (default 5000). */
  waitForMessages(n: number, timeoutMs?: number): Promise<CapturedMessage[]>;
  /** Stops listening and drops every open connection; resolves quickly. */
  close(): Promise<void>;
}

/** How long `close()` waits for sockets to go away before giving up on them. */
const CLOSE_CAP_MS = 1000;

function replyError(rejection: Rejection): Error {
  return Object.assign(new Error(rejection.message), { responseCode: rejection.code });
}

/** What a client's OAUTHBEARER initial response says (RFC 7628 §3.1). */
export interface OAuthBearerMessage {
  /** The authorization identity from the GS2 header, unescaped. */
  username: string;
  /** The `host` key/value pair. */
  host?: string;
  /** The `port` key/value pair. */
  port?: string;
  /** The token from `auth=Bearer <token>`. */
  accessToken: string;
}

/**
 * Parses an OAUTHBEARER initial client response (decoded from base64): a GS2 header
 * `n,a=<saslname>,`, then key=value pairs each ended by 0x01, then a final 0x01. Strict:
 * anything else (a missing authzid, a bad escape, a missing auth pair) is undefined.
 */
export function parseOAuthBearer(message: string): OAuthBearerMessage | undefined {
  const fields = message.split("\x01");
  if (fields.length < 4 || fields[fields.length - 1] !== "" || fields[fields.length - 2] !== "") return undefined;
  const header = /^n,a=((?:[^=,]|=2C|=3D)+),$/.exec(fields[0] ?? "");
  if (!header) return undefined;
  const username = (header[1] ?? "").replace(/=2C|=3D/g, (escape) => (escape === "=2C" ? "," : "="));
  const pairs = new Map<string, string>();
  for (const field of fields.slice(1, -2)) {
    const pair = /^([A-Za-z]+)=([\x21-\x7e ]*)$/.exec(field);
    if (!pair) return undefined;
    pairs.set(pair[1] ?? "", pair[2] ?? "");
  }
  const bearer = /^Bearer ([\x21-\x7e]+)$/i.exec(pairs.get("auth") ?? "");
  if (!bearer) return undefined;
  const out: OAuthBearerMessage = { username, accessToken: bearer[1] ?? "" };
  if (pairs.has("host")) out.host = pairs.get("host");
  if (pairs.has("port")) out.port = pairs.get("port");
  return out;
}

/** The parts of smtp-server's connection object that a SASL mechanism uses. */
interface SaslConnection {
  send(code: number, data?: string): void;
  _nextHandler: ((line: Buffer | string, done: () => void) => void) | false;
  _server: { onAuth: SMTPServerOptions["onAuth"] & {} };
  session: Parameters<NonNullable<SMTPServerOptions["onAuth"]>>[1];
  _transmissionType(): string;
}

/** Reads the client's OAUTHBEARER message and asks `onAuth`, as smtp-server does for XOAUTH2. */
function oauthBearerResponse(connection: SaslConnection, raw: string, done: () => void): void {
  const text = raw.trim();
  if (text === "*") {
    connection.send(501, "Authentication aborted");
    return done();
  }
  const parsed = parseOAuthBearer(Buffer.from(text, "base64").toString("utf8"));
  if (!parsed) {
    connection.send(501, "Error: invalid OAUTHBEARER message");
    return done();
  }
  const auth = { method: "OAUTHBEARER", username: parsed.username, accessToken: parsed.accessToken, oauthHost: parsed.host, oauthPort: parsed.port };
  connection._server.onAuth(auth as never, connection.session, (err, response) => {
    if (err) {
      connection.send((err as { responseCode?: number }).responseCode ?? 535, err.message);
      return done();
    }
    if (!response?.user) {
      // RFC 7628 §3.2.2-3: an error challenge, to which the client must answer with 0x01.
      connection._nextHandler = (line, next) => {
        const ack = Buffer.from(String(line).trim(), "base64").toString("latin1");
        if (ack === "\x01") connection.send(535, "Authentication failed");
        else connection.send(501, "Error: expected a single 0x01 after the error challenge");
        next();
      };
      const data = (response as { data?: unknown } | undefined)?.data ?? {};
      connection.send(334, Buffer.from(JSON.stringify(data)).toString("base64"));
      return done();
    }
    connection.session.user = response.user;
    (connection.session as { transmissionType?: string }).transmissionType = connection._transmissionType();
    connection.send(235, "Authentication successful");
    done();
  });
}

// smtp-server looks mechanisms up by name in its SASL table; adding one changes nothing for
// servers that do not list it in `authMethods`.
const saslTable = sasl as unknown as Record<string, unknown>;
saslTable.SASL_OAUTHBEARER ??= function oauthBearer(this: SaslConnection, args: string[], done: () => void): void {
  if (args.length > 1) {
    this.send(501, "Error: syntax: AUTH OAUTHBEARER token");
    return done();
  }
  if (args.length === 0) {
    this._nextHandler = (line, next) => oauthBearerResponse(this, String(line), next);
    this.send(334);
    return done();
  }
  oauthBearerResponse(this, args[0] ?? "", done);
};

const GMAIL_OAUTH_ERROR = Object.freeze({ status: "401", schemes: "bearer", scope: "https://mail.google.com/" });

/** Starts a real SMTP server on 127.0.0.1 with a free port. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const certs = getTestCerts();
  const mode = options.mode ?? "starttls";
  const users = options.users ?? { "user@example.com": "secret" };
  const [key, cert] =
    options.cert === "self-signed"
      ? [certs.selfSignedKey, certs.selfSignedCert]
      : options.cert === "wrong-host"
        ? [certs.wrongHostKey, certs.wrongHostCert]
        : [certs.serverKey, certs.serverCert];

  const messages: CapturedMessage[] = [];
  const authAttempts: AuthAttempt[] = [];
  const errors: Error[] = [];
  const rawSockets = new Set<Socket>();
  const messageWaiters = new Set<() => void>();
  let sessions = 0;

  const disabledCommands: string[] = [];
  if (options.noAuth) disabledCommands.push("AUTH");

  const serverOptions: SMTPServerOptions = {
    name: "smtp.test",
    logger: false,
    secure: mode === "tls",
    hideSTARTTLS: mode === "plain",
    key,
    cert,
    authMethods: options.authMethods ?? ["PLAIN", "LOGIN"],
    authOptional: options.noAuth === true || options.authOptional === true,
    allowInsecureAuth: options.allowInsecureAuth ?? mode === "plain",
    disabledCommands,
    closeTimeout: 100,
    onConnect(_session, callback) {
      sessions++;
      callback();
    },
    onAuth(auth, session, callback) {
      const username = auth.username ?? "";
      // smtp-server's types list only the methods it knows by default; OAUTHBEARER is ours.
      const method: string = auth.method;
      if (method === "XOAUTH2" || method === "OAUTHBEARER") {
        const accessToken = (auth as { accessToken?: string }).accessToken ?? "";
        const tokens = options.tokens ?? {};
        const accepted = Object.prototype.hasOwnProperty.call(tokens, username) && tokens[username] === accessToken;
        const attempt: AuthAttempt = { method: auth.method, username, success: accepted, secure: session.secure, accessToken };
        const reported = auth as { oauthHost?: string; oauthPort?: string };
        if (reported.oauthHost !== undefined) attempt.host = reported.oauthHost;
        if (reported.oauthPort !== undefined) attempt.port = reported.oauthPort;
        authAttempts.push(attempt);
        // A refusal without an error makes smtp-server (and the OAUTHBEARER above) send the
        // 334 error challenge, then 535 once the client answers it.
        if (accepted) callback(null, { user: username });
        else callback(null, { data: options.oauthError ?? GMAIL_OAUTH_ERROR } as never);
        return;
      }
      const known = Object.prototype.hasOwnProperty.call(users, username);
      const success = auth.method === "CRAM-MD5"
        ? known && (auth as { validatePassword(password: string): boolean }).validatePassword(users[username] as string)
        : known && users[username] === auth.password;
      authAttempts.push({ method: auth.method, username, success, secure: session.secure });
      if (success) callback(null, { user: username });
      else callback(replyError({ code: 535, message: "Authentication credentials invalid" }));
    },
    onMailFrom(address, _session, callback) {
      const rejection = options.rejectSender?.(address.address);
      callback(rejection ? replyError(rejection) : undefined);
    },
    onRcptTo(address, _session, callback) {
      const rejection = options.rejectRecipient?.(address.address);
      callback(rejection ? replyError(rejection) : undefined);
    },
    onData(stream, session, callback) {
      // Always read the whole message, whatever the verdict, so the reply follows the dot.
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err: Error) => callback(err));
      stream.on("end", () => {
        if (stream.sizeExceeded) {
          callback(replyError({ code: 552, message: `Message exceeds the size limit of ${options.size}` }));
          return;
        }
        const rejection = options.rejectData?.();
        if (rejection) {
          callback(replyError(rejection));
          return;
        }
        const raw = Buffer.concat(chunks);
        const envelope = session.envelope;
        simpleParser(raw).then(
          (parsed) => {
            const message: CapturedMessage = {
              raw,
              mailFrom: envelope.mailFrom ? envelope.mailFrom.address : "",
              rcptTo: envelope.rcptTo.map((r) => r.address),
              parsed,
              secure: session.secure,
            };
            if (typeof session.user === "string") message.user = session.user;
            messages.push(message);
            for (const wake of [...messageWaiters]) wake();
            callback();
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      });
    },
  };
  if (options.size !== undefined) {
    serverOptions.size = options.size;
    serverOptions.rejectOversized = true;
  }

  const smtp = new SMTPServer(serverOptions);
  smtp.on("error", (err: Error) => errors.push(err));
  smtp.server.on("connection", (socket: Socket) => {
    rawSockets.add(socket);
    socket.once("close", () => rawSockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(0, "127.0.0.1", () => {
      smtp.server.off("error", reject);
      resolve();
    });
  });
  const port = (smtp.server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const state: TestServer = {
    host: "127.0.0.1",
    port,
    caPem: certs.caPem,
    messages,
    authAttempts,
    get sessions() {
      return sessions;
    },
    errors,
    waitForMessages(n, timeoutMs = 5000) {
      if (messages.length >= n) return Promise.resolve(messages.slice());
      return new Promise((resolve, reject) => {
        const wake = (): void => {
          if (messages.length < n) return;
          clearTimeout(timer);
          messageWaiters.delete(wake);
          resolve(messages.slice());
        };
        const timer = setTimeout(() => {
          messageWaiters.delete(wake);
          reject(new Error(`Expected "${n}" messages within ${timeoutMs} ms, got "${messages.length}"`));
        }, timeoutMs);
        messageWaiters.add(wake);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        const cap = setTimeout(resolve, CLOSE_CAP_MS);
        smtp.close(() => {
          clearTimeout(cap);
          resolve();
        });
        // Drop live sessions from the top (the TLS socket when there is one), then any
        // socket still open underneath.
        for (const connection of smtp.connections) {
          (connection as unknown as { _socket?: Socket })._socket?.destroy();
        }
        for (const socket of rawSockets) socket.destroy();
      });
      return closing;
    },
  };
  return state;
}

/** A raw scripted server; see {@link startRawServer}. */
export interface RawServer {
  /** Always the IPv4 loopback. */
  host: "127.0.0.1";
  /** The port it listens on. */
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops listening and destroys every open socket. */
  close(): Promise<void>;
}

/**
 * Starts a bare TCP server on 127.0.0.1 with a free port; `handler` gets every accepted
 * socket and scripts the exchange byte by byte. Socket errors are ignored unless the
 * handler listens for them; a handler that throws or rejects gets its socket destroyed.
 */
export async function startRawServer(
  handler: (socket: Socket) => void | Promise<void>,
): Promise<RawServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
    try {
      Promise.resolve(handler(socket)).catch(() => socket.destroy());
    } catch {
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    host: "127.0.0.1",
    port,
    get connections() {
      return connections;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
