/**
 * A small SMTP server on 127.0.0.1 (port 0) that behaves like a minimal, correct server
 * until told to misbehave. It speaks just enough SMTP for the client: greeting, EHLO/HELO,
 * STARTTLS (with the test certificates), AUTH PLAIN and LOGIN for one user, MAIL, RCPT,
 * DATA, RSET, NOOP and QUIT. A `behaviour` picks one way to break the dialogue; the
 * reply-level ones apply at the step named by `at`.
 *
 * Everything the client sends is recorded: each command line with whether the connection
 * was encrypted when it arrived, every plaintext byte, every AUTH attempt and every message
 * body (its size, whether its final dot arrived, and whether the server said 2xx to it).
 *
 * @module
 */

import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { getTestCerts } from "./certs.ts";

/** The points of a session where a reply-level misbehaviour can strike. */
export type Step = "greeting" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt" | "data" | "end-of-data";

/** One way to break the dialogue. */
export type Behaviour =
  /** A correct server. */
  | "normal"
  /** Accepts the connection and says nothing. */
  | "never-greet"
  /** Greets with `554 No SMTP service here`. */
  | "greet-554"
  /** Greets with a line that is not an SMTP reply (`hello`). */
  | "greet-garbage"
  /** At `at`: sends the first line of a multi-line reply (`250-first line`), then nothing. */
  | "stall-mid-reply"
  /** At `at`: sends no reply at all. */
  | "silent"
  /** At `at`: sends the correct reply one byte every `trickleMs`. */
  | "trickle"
  /** At `at`: sends a line of binary garbage instead of the reply. */
  | "garbage"
  /** At `at`: a multi-line reply whose code changes (`250-…` then `251 …`). */
  | "inconsistent-multiline"
  /** At `at`: one reply line of 100 KB. */
  | "huge-line"
  /** At `at`: `421 4.3.2 Service shutting down`, then closes the connection. */
  | "reply-421"
  /** Answers STARTTLS with `454 4.7.0`. */
  | "starttls-454"
  /** Says 220 to STARTTLS, then answers the ClientHello with plaintext garbage. */
  | "tls-handshake-garbage"
  /** Says 220 to STARTTLS, then closes the connection when the ClientHello arrives. */
  | "tls-handshake-close"
  /** Says 220 to STARTTLS with a plaintext `250 injected` in the same write. */
  | "starttls-injection"
  /** Resets the connection (RST) once `misbehaveAfterBodyBytes` of the body arrived. */
  | "reset-mid-body"
  /** Resets the connection (RST) as soon as the final dot arrived. */
  | "reset-after-dot"
  /** Refuses EHLO with 502; HELO works. */
  | "ehlo-502"
  /** Sends `250 surprise` in the same write as the greeting. */
  | "unsolicited-after-greeting"
  /** Sends `250 surprise` in the same write as the (first) EHLO reply. */
  | "unsolicited-after-ehlo"
  /** Sends `250 surprise` in the same write as the 354 to DATA, then refuses the message with 554. */
  | "unsolicited-in-data"
  /** Stops reading for `stallMs` once `misbehaveAfterBodyBytes` of the body arrived, then discards the rest. */
  | "stall-reading-in-data"
  /** Refuses AUTH with a 535 whose text repeats the credentials it received. */
  | "echo-credentials";

/** How the server behaves. */
export interface MisbehavingServerOptions {
  /** The misbehaviour; `"normal"` by default. */
  behaviour?: Behaviour;
  /** Where a reply-level misbehaviour strikes; `"ehlo"` by default. */
  at?: Step;
  /** EHLO keywords after the server name; `["8BITMIME", "AUTH PLAIN LOGIN"]` by default. */
  extensions?: string[];
  /** Offer STARTTLS (before TLS only) and upgrade with the CA-signed test certificate. */
  starttls?: boolean;
  /** The one user the server accepts; `user@example.com` by default. */
  username?: string;
  /** Its password; `secret` by default. */
  password?: string;
  /** Delay between bytes for `"trickle"`; 100 ms by default. */
  trickleMs?: number;
  /** How long `"stall-reading-in-data"` stops reading; 600 ms by default. */
  stallMs?: number;
  /** Body bytes received before `"reset-mid-body"` or `"stall-reading-in-data"` strike; 64 KiB by default. */
  misbehaveAfterBodyBytes?: number;
}

/** One command line the client sent. */
export interface ReceivedLine {
  /** Connection number, from 1. */
  connection: number;
  /** The line without CRLF, decoded as UTF-8. */
  line: string;
  /** Whether it arrived over TLS. */
  encrypted: boolean;
}

/** One AUTH exchange that reached its end. */
export interface AuthRecord {
  /** Connection number. */
  connection: number;
  /** `PLAIN` or `LOGIN`. */
  mechanism: string;
  /** The user name given. */
  username: string;
  /** Whether the credentials matched. */
  success: boolean;
  /** Whether the exchange ran over TLS. */
  encrypted: boolean;
}

/** One message body the client started to send. */
export interface ReceivedMessage {
  /** Connection number. */
  connection: number;
  /** Body octets received, dot-stuffed, up to and including the final dot line. */
  bytes: number;
  /** Whether the final `CRLF.CRLF` arrived. */
  complete: boolean;
  /** Whether the server answered the final dot with 2xx: the only way a message is delivered. */
  accepted: boolean;
  /** Whether the body arrived over TLS. */
  encrypted: boolean;
}

/** A running misbehaving server. */
export interface MisbehavingServer {
  /** Always the IPv4 loopback. */
  host: "127.0.0.1";
  /** The port it listens on. */
  port: number;
  /** The test CA's certificate, to trust with the `ca` option. */
  caPem: string;
  /** Every command line, in arrival order, across connections. */
  lines: ReceivedLine[];
  /** AUTH exchanges, in order. */
  auths: AuthRecord[];
  /** Message bodies, in order. */
  messages: ReceivedMessage[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections not yet closed. */
  readonly openConnections: number;
  /** Bytes the server wrote for `"trickle"` so far. */
  readonly trickled: number;
  /** Every byte received before TLS, across connections, as latin1 text. */
  plaintext(): string;
  /** Resolves true once every accepted connection has closed, false after `timeoutMs`. */
  waitForAllClosed(timeoutMs?: number): Promise<boolean>;
  /** Resolves once a message body has at least `n` bytes; rejects after `timeoutMs`. */
  waitForBodyBytes(n: number, timeoutMs?: number): Promise<void>;
  /** Stops listening, destroys every connection and cancels every timer. */
  close(): Promise<void>;
}

const CRLF = "\r\n";
const HUGE_LINE_BYTES = 100 * 1024;
const TERMINATOR = "\r\n.\r\n";

function b64decode(text: string): string {
  return Buffer.from(text, "base64").toString("utf8");
}

/** Formats a reply: every line but the last gets `code-`. */
function multiline(code: number, lines: string[]): string {
  return lines.map((line, i) => `${code}${i < lines.length - 1 ? "-" : " "}${line}${CRLF}`).join("");
}

/** Starts a misbehaving SMTP server on 127.0.0.1 with a free port. */
export async function startMisbehavingServer(options: MisbehavingServerOptions = {}): Promise<MisbehavingServer> {
  const certs = getTestCerts();
  const behaviour: Behaviour = options.behaviour ?? "normal";
  const at: Step = options.at ?? "ehlo";
  const extensions = options.extensions ?? ["8BITMIME", "AUTH PLAIN LOGIN"];
  const username = options.username ?? "user@example.com";
  const password = options.password ?? "secret";
  const trickleMs = options.trickleMs ?? 100;
  const stallMs = options.stallMs ?? 600;
  const bodyThreshold = options.misbehaveAfterBodyBytes ?? 64 * 1024;
  const authOffered = extensions.find((e) => /^AUTH\b/i.test(e))?.toUpperCase().split(/\s+/).slice(1) ?? [];

  const lines: ReceivedLine[] = [];
  const auths: AuthRecord[] = [];
  const messages: ReceivedMessage[] = [];
  const plaintextChunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const closeWaiters = new Set<() => void>();
  const bodyWaiters = new Set<() => void>();
  let connections = 0;
  let trickled = 0;

  function handle(socket: Socket): void {
    const id = ++connections;
    sockets.add(socket);
    const myTimers = new Set<ReturnType<typeof setTimeout>>();
    let stream: Socket = socket;
    let encrypted = false;
    let closed = false;
    let greetedEhlo = false;
    // "command": lines are commands; "data": the body; "ignore": drop everything.
    let mode: "command" | "data" | "ignore" = "command";
    // Read through a function: handlers change `mode` behind the parser's back.
    const modeIs = (wanted: typeof mode): boolean => mode === wanted;
    let pending: Buffer = Buffer.alloc(0);
    let message: ReceivedMessage | undefined;
    let tail = "";
    let stalled = false;
    let auth: { mechanism: "PLAIN" | "LOGIN"; stage: "plain" | "login-user" | "login-pass"; user?: string; payloads: string[] } | undefined;

    const schedule = (ms: number, fn: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        myTimers.delete(timer);
        if (!closed) fn();
      }, ms);
      timers.add(timer);
      myTimers.add(timer);
    };

    socket.on("error", () => {});
    socket.once("close", () => {
      closed = true;
      sockets.delete(socket);
      for (const timer of myTimers) {
        clearTimeout(timer);
        timers.delete(timer);
      }
      myTimers.clear();
      for (const wake of [...closeWaiters]) wake();
    });

    const send = (data: string | Buffer): void => {
      if (closed || stream.destroyed || !stream.writable) return;
      stream.write(typeof data === "string" ? Buffer.from(data, "utf8") : data);
    };

    const reset = (): void => {
      mode = "ignore";
      if (!socket.destroyed) socket.resetAndDestroy();
    };

    /** Sends `normal`, or misbehaves when `step` is the chosen one. True when `normal` went out. */
    const reply = (step: Step, normal: string): boolean => {
      if (step !== at) {
        send(normal);
        return true;
      }
      const code = normal.slice(0, 3);
      switch (behaviour) {
        case "stall-mid-reply":
          send(`${code}-first line${CRLF}`);
          return false;
        case "silent":
          return false;
        case "trickle": {
          const bytes = Buffer.from(normal, "utf8");
          let i = 0;
          const drip = (): void => {
            if (i >= bytes.length) return;
            send(bytes.subarray(i, i + 1));
            i++;
            trickled++;
            schedule(trickleMs, drip);
          };
          drip();
          return false;
        }
        case "garbage":
          send(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x67, 0x61, 0x72, 0x62, 0x61, 0x67, 0x65, 0x0d, 0x0a]));
          return false;
        case "inconsistent-multiline":
          send(`250-first line${CRLF}251 second line${CRLF}`);
          return false;
        case "huge-line":
          send(`250 ${"x".repeat(HUGE_LINE_BYTES)}${CRLF}`);
          return false;
        case "reply-421":
          send(`421 4.3.2 Service shutting down${CRLF}`);
          mode = "ignore";
          stream.end();
          return false;
        default:
          send(normal);
          return true;
      }
    };

    const ehloReply = (): string => {
      const keywords = [...(options.starttls && !encrypted ? ["STARTTLS"] : []), ...extensions];
      return multiline(250, ["misbehaving.test greets you", ...keywords]);
    };

    const finishAuth = (mechanism: "PLAIN" | "LOGIN", user: string, pass: string, payloads: string[]): void => {
      auth = undefined;
      const success = user === username && pass === password;
      auths.push({ connection: id, mechanism, username: user, success, encrypted });
      if (behaviour === "echo-credentials") {
        send(`535 5.7.8 Authentication failed for ${payloads.join(" ")} (user ${user}, password ${pass})${CRLF}`);
        return;
      }
      reply("auth", success ? `235 2.7.0 Authentication successful${CRLF}` : `535 5.7.8 Authentication credentials invalid${CRLF}`);
    };

    const plain = (payload: string): void => {
      const [, user = "", pass = ""] = b64decode(payload).split("\0");
      finishAuth("PLAIN", user, pass, [payload]);
    };

    const continueAuth = (line: string): void => {
      const state = auth!;
      if (line === "*") {
        auth = undefined;
        send(`501 5.7.0 Authentication cancelled${CRLF}`);
        return;
      }
      state.payloads.push(line);
      if (state.stage === "plain") {
        plain(line);
      } else if (state.stage === "login-user") {
        state.user = b64decode(line);
        state.stage = "login-pass";
        send(`334 UGFzc3dvcmQ6${CRLF}`);
      } else {
        finishAuth("LOGIN", state.user ?? "", b64decode(line), state.payloads);
      }
    };

    const startAuth = (args: string[]): void => {
      const mechanism = (args[0] ?? "").toUpperCase();
      const initial = args[1];
      if (!authOffered.includes(mechanism) || (mechanism !== "PLAIN" && mechanism !== "LOGIN")) {
        send(`504 5.5.4 Unrecognized authentication type${CRLF}`);
        return;
      }
      if (mechanism === "PLAIN") {
        if (initial !== undefined) return plain(initial);
        auth = { mechanism, stage: "plain", payloads: [] };
        send(`334 ${CRLF}`);
        return;
      }
      if (initial !== undefined) {
        auth = { mechanism, stage: "login-pass", user: b64decode(initial), payloads: [initial] };
        send(`334 UGFzc3dvcmQ6${CRLF}`);
        return;
      }
      auth = { mechanism, stage: "login-user", payloads: [] };
      send(`334 VXNlcm5hbWU6${CRLF}`);
    };

    const upgrade = (): void => {
      socket.off("data", onPlainData);
      mode = "command";
      pending = Buffer.alloc(0);
      const tls = new TLSSocket(socket, { isServer: true, key: certs.serverKey, cert: certs.serverCert });
      tls.on("error", () => {});
      tls.on("data", (chunk: Buffer) => feed(chunk));
      stream = tls;
      encrypted = true;
    };

    const startTls = (): void => {
      if (!options.starttls || encrypted) {
        send(`502 5.5.1 STARTTLS not available${CRLF}`);
        return;
      }
      if (behaviour === "starttls-454") {
        send(`454 4.7.0 TLS not available due to temporary reason${CRLF}`);
        return;
      }
      if (behaviour === "starttls-injection") {
        send(`220 2.0.0 Ready to start TLS${CRLF}250 injected${CRLF}`);
        upgrade();
        return;
      }
      if (!reply("starttls", `220 2.0.0 Ready to start TLS${CRLF}`)) return;
      if (behaviour === "tls-handshake-garbage" || behaviour === "tls-handshake-close") {
        // Whatever the client sends next is its ClientHello: answer it wrongly.
        mode = "ignore";
        socket.once("data", () => {
          if (behaviour === "tls-handshake-close") {
            socket.destroy();
          } else {
            send(`this is not a TLS ServerHello${CRLF}`);
            socket.end();
          }
        });
        return;
      }
      upgrade();
    };

    const endOfData = (): void => {
      const current = message!;
      current.complete = true;
      message = undefined;
      if (behaviour === "reset-after-dot") return reset();
      if (behaviour === "unsolicited-in-data") {
        send(`554 5.6.0 Message refused${CRLF}`);
        return;
      }
      if (reply("end-of-data", `250 2.0.0 Queued as MB${id}${CRLF}`)) current.accepted = true;
    };

    const onCommand = (line: string): void => {
      lines.push({ connection: id, line, encrypted });
      if (auth) return continueAuth(line);
      const [verb = "", ...args] = line.split(" ");
      switch (verb.toUpperCase()) {
        case "EHLO": {
          if (behaviour === "ehlo-502") return send(`502 5.5.1 EHLO not implemented${CRLF}`);
          const first = !greetedEhlo;
          greetedEhlo = true;
          if (first && behaviour === "unsolicited-after-ehlo") {
            // One write, so the surprise reaches the client together with the real reply.
            return send(ehloReply() + `250 surprise${CRLF}`);
          }
          reply("ehlo", ehloReply());
          return;
        }
        case "HELO":
          return send(`250 misbehaving.test${CRLF}`);
        case "STARTTLS":
          return startTls();
        case "AUTH":
          return startAuth(args);
        case "MAIL":
          reply("mail", `250 2.1.0 Sender OK${CRLF}`);
          return;
        case "RCPT":
          reply("rcpt", `250 2.1.5 Recipient OK${CRLF}`);
          return;
        case "DATA": {
          const go = `354 Start mail input; end with <CRLF>.<CRLF>${CRLF}`;
          if (behaviour === "unsolicited-in-data") {
            send(go + `250 surprise${CRLF}`);
          } else if (!reply("data", go)) {
            return;
          }
          mode = "data";
          tail = CRLF; // the DATA line's own CRLF: an empty body is just ".\r\n"
          message = { connection: id, bytes: 0, complete: false, accepted: false, encrypted };
          messages.push(message);
          return;
        }
        case "RSET":
        case "NOOP":
          return send(`250 2.0.0 OK${CRLF}`);
        case "QUIT":
          send(`221 2.0.0 Bye${CRLF}`);
          mode = "ignore";
          stream.end();
          return;
        default:
          send(`502 5.5.2 Command not recognised${CRLF}`);
      }
    };

    /** Takes body bytes; returns what follows the final dot (more commands), if anything. */
    const consumeBody = (chunk: Buffer): Buffer => {
      const current = message!;
      const text = tail + chunk.toString("latin1");
      const found = text.indexOf(TERMINATOR);
      if (found === -1) {
        current.bytes += chunk.length;
        tail = text.slice(-4);
        for (const wake of [...bodyWaiters]) wake();
        if (current.bytes >= bodyThreshold) {
          if (behaviour === "reset-mid-body") reset();
          else if (behaviour === "stall-reading-in-data" && !stalled) {
            stalled = true;
            stream.pause();
            schedule(stallMs, () => {
              mode = "ignore";
              stream.resume();
            });
          }
        }
        return Buffer.alloc(0);
      }
      const used = found + TERMINATOR.length - tail.length;
      current.bytes += used;
      for (const wake of [...bodyWaiters]) wake();
      mode = "command";
      endOfData();
      return chunk.subarray(used);
    };

    function feed(input: Buffer): void {
      let chunk = input;
      while (chunk.length > 0 && !closed) {
        if (mode === "ignore") return;
        if (mode === "data") {
          chunk = consumeBody(chunk);
          continue;
        }
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        chunk = Buffer.alloc(0);
        let end: number;
        while (modeIs("command") && (end = pending.indexOf(CRLF)) !== -1) {
          const line = pending.subarray(0, end).toString("utf8");
          pending = pending.subarray(end + 2);
          const before = stream;
          onCommand(line);
          if (stream !== before) {
            // Upgraded to TLS: plaintext that followed STARTTLS is not trusted; drop it.
            pending = Buffer.alloc(0);
            return;
          }
        }
        if (modeIs("data")) {
          chunk = pending;
          pending = Buffer.alloc(0);
        }
      }
    }

    function onPlainData(chunk: Buffer): void {
      plaintextChunks.push(Buffer.from(chunk));
      feed(chunk);
    }

    socket.on("data", onPlainData);

    switch (behaviour) {
      case "never-greet":
        return;
      case "greet-554":
        return send(`554 5.3.2 No SMTP service here${CRLF}`);
      case "greet-garbage":
        return send(`hello${CRLF}`);
      case "unsolicited-after-greeting":
        return send(`220 misbehaving.test ESMTP${CRLF}250 surprise${CRLF}`);
      default:
        reply("greeting", `220 misbehaving.test ESMTP ready${CRLF}`);
    }
  }

  const server: Server = createServer(handle);
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
    caPem: certs.caPem,
    lines,
    auths,
    messages,
    get connections() {
      return connections;
    },
    get openConnections() {
      return sockets.size;
    },
    get trickled() {
      return trickled;
    },
    plaintext() {
      return Buffer.concat(plaintextChunks).toString("latin1");
    },
    waitForAllClosed(timeoutMs = 1000) {
      if (sockets.size === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const wake = (): void => {
          if (sockets.size > 0) return;
          closeWaiters.delete(wake);
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          closeWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        closeWaiters.add(wake);
      });
    },
    waitForBodyBytes(n, timeoutMs = 2000) {
      const reached = (): boolean => messages.some((m) => m.bytes >= n);
      if (reached()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          if (!reached()) return;
          bodyWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          bodyWaiters.delete(wake);
          reject(new Error(`No message body reached ${n} bytes within ${timeoutMs} ms`));
        }, timeoutMs);
        bodyWaiters.add(wake);
      });
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
