// The servers one runtime talks to, all in this Node process on 127.0.0.1 port 0:
// - raw scripted servers (node:net, upgraded with tls.TLSSocket) for byte-exact and
//   misbehaving cases: STARTTLS, implicit TLS, injection, self-signed, wrong name, stall,
//   a server that stops reading after DATA's 354;
// - two smtp-server instances (STARTTLS and implicit TLS, AUTH PLAIN/LOGIN) that capture
//   every message (sha256 of the raw message and of each decoded attachment);
// - an HTTP control endpoint the runtimes query for what was captured.
// Each runtime gets its own set, so runtimes can run in parallel without sharing state.
import { createHash, randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { TLSSocket } from "node:tls";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

const HOST = "127.0.0.1";
const CRLF = "\r\n";

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

/** A port with nothing listening: bind, note the port, close. */
async function refusedPort() {
  const s = createNetServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A scripted SMTP-ish server.
 * @param {{ name: string, tls: "starttls"|"implicit"|"none", pair?: {key,cert}, inject?: boolean,
 *   behaviour?: "normal"|"stall"|"slowData"|"silent", stats: Map, events: Record<string, number> }} o
 */
async function rawServer(o) {
  const sockets = new Set();
  const stat = { open: 0, total: 0 };
  o.stats.set(o.name, stat);

  const server = createNetServer((raw) => {
    sockets.add(raw);
    stat.open++;
    stat.total++;
    raw.on("close", () => {
      sockets.delete(raw);
      stat.open--;
    });
    raw.on("error", () => {});
    const session = { stream: raw, secure: false, sni: undefined, buf: Buffer.alloc(0), sink: undefined };

    const send = (text) => {
      if (!session.stream.destroyed) session.stream.write(text);
    };

    const secure = (plainStream) => {
      const tls = new TLSSocket(plainStream, { isServer: true, key: o.pair.key, cert: o.pair.cert });
      tls.on("error", () => {});
      tls.on("secure", () => {
        session.sni = tls.servername || undefined;
      });
      session.stream = tls;
      session.secure = true;
      session.buf = Buffer.alloc(0);
      tls.on("data", onData);
      return tls;
    };

    const ehlo = () => {
      const lines = ["raw.test greets you", "PIPELINING", "8BITMIME", "SIZE 60000000"];
      if (o.tls === "starttls" && !session.secure) lines.push("STARTTLS");
      if (session.secure) lines.push(`XTLS on sni=${session.sni ?? "-"}`);
      return lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}`).join(CRLF) + CRLF;
    };

    const handle = (line) => {
      const [verb, ...rest] = line.split(" ");
      const upper = verb.toUpperCase();
      if (o.behaviour === "stall") return; // greeted, then silent
      switch (upper) {
        case "EHLO":
          return send(ehlo());
        case "HELO":
          return send(`250 raw.test${CRLF}`);
        case "NOOP":
        case "RSET":
          return send(`250 OK${CRLF}`);
        case "QUIT":
          send(`221 bye${CRLF}`);
          session.stream.end();
          return;
        case "STARTTLS": {
          if (o.tls !== "starttls" || session.secure) return send(`502 not now${CRLF}`);
          const plain = session.stream;
          plain.off("data", onData);
          // The injection variant puts plaintext in the same write as the 220.
          plain.write(`220 go ahead${CRLF}${o.inject ? `250 INJECTED-PLAINTEXT${CRLF}` : ""}`);
          secure(plain); // plaintext after STARTTLS in the same read is dropped
          return;
        }
        case "XSTALLTLS":
          // Say yes to TLS, then never speak again (not even TLS).
          session.stream.off("data", onData);
          return send(`220 go ahead (not really)${CRLF}`);
        case "STALL":
          return;
        case "SINK": {
          const size = Number(rest[0]);
          session.sink = { left: size, size, hash: createHash("sha256"), sinceNap: 0 };
          return send(`354 send ${size} bytes${CRLF}`);
        }
        case "SOURCE": {
          const size = Number(rest[0]);
          const body = randomBytes(size);
          const digest = createHash("sha256").update(body).digest("hex");
          send(`250 sha256=${digest} size=${size}${CRLF}`);
          return send(body);
        }
        case "MAIL":
        case "RCPT":
          return send(`250 OK${CRLF}`);
        case "DATA":
          if (o.behaviour === "slowData") {
            // Stop reading for a second, so the client's writes back up mid-DATA; then
            // read and discard without ever replying (still mid-DATA), which also lets
            // this side notice when the client goes away.
            const stream = session.stream;
            stream.off("data", onData);
            stream.pause();
            setTimeout(() => {
              stream.on("data", () => {});
              stream.resume();
            }, 1000);
            o.events[`${o.name}.dataStarted`] = (o.events[`${o.name}.dataStarted`] ?? 0) + 1;
            return send(`354 go ahead${CRLF}`);
          }
          return send(`554 no DATA here${CRLF}`);
        default:
          return send(`502 unknown command${CRLF}`);
      }
    };

    function pump() {
      while (session.buf.length > 0) {
        const sink = session.sink;
        if (sink) {
          const take = Math.min(sink.left, session.buf.length);
          sink.hash.update(session.buf.subarray(0, take));
          session.buf = session.buf.subarray(take);
          sink.left -= take;
          sink.sinceNap += take;
          if (sink.left === 0) {
            session.sink = undefined;
            send(`250 sha256=${sink.hash.digest("hex")} size=${sink.size}${CRLF}`);
            continue;
          }
          if (sink.sinceNap >= 1024 * 1024) {
            // A slow reader: 20 ms per MiB, so the client meets backpressure.
            sink.sinceNap = 0;
            const stream = session.stream;
            stream.pause();
            setTimeout(() => {
              stream.resume();
              pump();
            }, 20);
            return;
          }
          continue;
        }
        const idx = session.buf.indexOf(CRLF);
        if (idx < 0) return;
        const line = session.buf.subarray(0, idx).toString("latin1");
        session.buf = session.buf.subarray(idx + 2);
        const before = session.stream;
        handle(line);
        if (session.stream !== before) return; // upgraded: leftover plaintext is dropped
      }
    }

    function onData(chunk) {
      session.buf = session.buf.length ? Buffer.concat([session.buf, chunk]) : chunk;
      pump();
    }

    if (o.behaviour === "silent") {
      // Accepts and never says a word (a hung TLS handshake). Keep reading, or Node would
      // never notice the client's FIN.
      raw.resume();
      return;
    }
    if (o.tls === "implicit") secure(raw);
    else raw.on("data", onData);
    send(`220 raw.test ESMTP ${o.name}${CRLF}`);
  });

  const port = await listen(server);
  return {
    port,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** smtp-server that records auth attempts and captured messages. */
async function smtpServer({ secure, pair, user, captured, auth }) {
  const server = new SMTPServer({
    secure,
    key: pair.key,
    cert: pair.cert,
    name: "smtp.test",
    banner: "conformance smtp-server",
    authMethods: ["PLAIN", "LOGIN"],
    authOptional: true,
    size: 60 * 1024 * 1024,
    logger: false,
    onAuth(a, session, cb) {
      const okAuth = a.username === user.username && a.password === user.password;
      auth.push({ method: a.method, username: a.username, ok: okAuth });
      if (!okAuth) return cb(new Error("Invalid username or password"));
      cb(null, { user: a.username });
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on("data", (c) => chunks.push(c));
      stream.on("error", cb);
      stream.on("end", async () => {
        try {
          const raw = Buffer.concat(chunks);
          const parsed = await simpleParser(raw);
          const record = {
            messageId: (parsed.messageId ?? "").replace(/^<|>$/g, ""),
            subject: parsed.subject ?? "",
            size: raw.length,
            sha256: createHash("sha256").update(raw).digest("hex"),
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            user: session.user,
            attachments: parsed.attachments.map((att) => ({
              filename: att.filename ?? "",
              size: att.content.length,
              sha256: createHash("sha256").update(att.content).digest("hex"),
            })),
          };
          if (record.messageId) captured.set(record.messageId, record);
          if (record.subject) captured.set(record.subject, record);
          cb(null, "Queued as conformance");
        } catch (err) {
          cb(err);
        }
      });
    },
  });
  server.on("error", () => {});
  const port = await listen(server.server);
  return {
    port,
    close() {
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Starts one runtime's servers and control endpoint. */
export async function startServerSet(certs) {
  const stats = new Map();
  const events = {};
  const captured = new Map();
  const auth = [];
  const user = { username: "conformance@example.test", password: "s3cret-Pass word" };
  const closers = [];
  const raw = async (name, options) => {
    const s = await rawServer({ name, stats, events, ...options });
    closers.push(s.close);
    return s.port;
  };
  const ports = {
    rawStarttls: await raw("rawStarttls", { tls: "starttls", pair: certs.good }),
    rawImplicit: await raw("rawImplicit", { tls: "implicit", pair: certs.good }),
    rawInject: await raw("rawInject", { tls: "starttls", pair: certs.good, inject: true }),
    untrustedStarttls: await raw("untrustedStarttls", { tls: "starttls", pair: certs.self }),
    untrustedImplicit: await raw("untrustedImplicit", { tls: "implicit", pair: certs.self }),
    wrongNameStarttls: await raw("wrongNameStarttls", { tls: "starttls", pair: certs.wrong }),
    wrongNameImplicit: await raw("wrongNameImplicit", { tls: "implicit", pair: certs.wrong }),
    stall: await raw("stall", { tls: "none", behaviour: "stall" }),
    slowData: await raw("slowData", { tls: "none", behaviour: "slowData" }),
    silent: await raw("silent", { tls: "none", behaviour: "silent" }),
    refused: await refusedPort(),
  };
  for (const [name, secure] of [["smtpStarttls", false], ["smtpImplicit", true]]) {
    const s = await smtpServer({ secure, pair: certs.good, user, captured, auth });
    closers.push(s.close);
    ports[name] = s.port;
  }

  const http = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname.startsWith("/captured/")) {
      const id = decodeURIComponent(url.pathname.slice("/captured/".length));
      const record = captured.get(id);
      return record ? json(200, record) : json(404, { error: `nothing captured for ${id}` });
    }
    if (url.pathname === "/auth") return json(200, auth);
    if (url.pathname === "/conns") return json(200, Object.fromEntries(stats));
    if (url.pathname === "/events") return json(200, events);
    json(404, { error: "unknown path" });
  });
  const controlPort = await listen(http);
  closers.push(() => {
    http.closeAllConnections?.();
    return new Promise((r) => http.close(() => r()));
  });

  return {
    ports,
    user,
    controlUrl: `http://${HOST}:${controlPort}`,
    async close() {
      await Promise.all(closers.map((c) => c().catch(() => {})));
    },
  };
}
