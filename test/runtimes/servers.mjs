// The servers one runtime talks to, all in this Node process on 127.0.0.1 port 0:
// - raw scripted servers (node:net, upgraded with tls.TLSSocket) for byte-exact and
//   misbehaving cases: STARTTLS, implicit TLS, injection, self-signed, wrong name, stall,
//   a server that stops reading after DATA's 354;
// - two smtp-server instances (STARTTLS and implicit TLS, AUTH PLAIN/LOGIN) that capture
//   every message (sha256 of the raw message and of each decoded attachment);
// - a third smtp-server (STARTTLS) offering PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER, in
//   that order, that checks CRAM-MD5 HMACs and a static OAuth2 bearer token per user;
// - an HTTP control endpoint the runtimes query for what was captured, and that verifies
//   DKIM signatures with mailauth (an independent implementation) against a public key the
//   runtime sends, served by a test DNS resolver.
// Each runtime gets its own set, so runtimes can run in parallel without sharing state.
import { createHash, randomBytes } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { createRequire } from "node:module";
import { createServer as createNetServer } from "node:net";
import { TLSSocket } from "node:tls";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import sasl from "smtp-server/lib/sasl.js";

const require = createRequire(import.meta.url);
// mailauth is CommonJS; this entry verifies DKIM signatures only (as test/unit/dkim does).
const { dkimVerify } = require("mailauth/lib/dkim/verify");

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

/**
 * Parses an OAUTHBEARER initial client response (RFC 7628 §3.1, decoded from base64): a
 * GS2 header `n,a=<saslname>,`, key=value pairs each ended by 0x01, then a final 0x01.
 * Strict (the same rules as test/helpers/smtp-server.ts): anything else is undefined.
 */
function parseOAuthBearer(message) {
  const fields = message.split("\x01");
  if (fields.length < 4 || fields[fields.length - 1] !== "" || fields[fields.length - 2] !== "") return undefined;
  const header = /^n,a=((?:[^=,]|=2C|=3D)+),$/.exec(fields[0] ?? "");
  if (!header) return undefined;
  const username = header[1].replace(/=2C|=3D/g, (escape) => (escape === "=2C" ? "," : "="));
  const pairs = new Map();
  for (const field of fields.slice(1, -2)) {
    const pair = /^([A-Za-z]+)=([\x21-\x7e ]*)$/.exec(field);
    if (!pair) return undefined;
    pairs.set(pair[1], pair[2]);
  }
  const bearer = /^Bearer ([\x21-\x7e]+)$/i.exec(pairs.get("auth") ?? "");
  if (!bearer) return undefined;
  return { username, accessToken: bearer[1], host: pairs.get("host"), port: pairs.get("port") };
}

/** Reads the client's OAUTHBEARER message and asks `onAuth`, as smtp-server does for XOAUTH2. */
function oauthBearerResponse(connection, raw, done) {
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
  const a = { method: "OAUTHBEARER", username: parsed.username, accessToken: parsed.accessToken, oauthHost: parsed.host, oauthPort: parsed.port };
  connection._server.onAuth(a, connection.session, (err, response) => {
    if (err) {
      connection.send(err.responseCode ?? 535, err.message);
      return done();
    }
    if (!response?.user) {
      // RFC 7628 §3.2.2: an error challenge, to which the client answers with a lone 0x01.
      connection._nextHandler = (line, next) => {
        const ack = Buffer.from(String(line).trim(), "base64").toString("latin1");
        if (ack === "\x01") connection.send(535, "Authentication failed");
        else connection.send(501, "Error: expected a single 0x01 after the error challenge");
        next();
      };
      connection.send(334, Buffer.from(JSON.stringify(response?.data ?? {})).toString("base64"));
      return done();
    }
    connection.session.user = response.user;
    connection.session.transmissionType = connection._transmissionType();
    connection.send(235, "Authentication successful");
    done();
  });
}

// smtp-server implements PLAIN, LOGIN, CRAM-MD5 and XOAUTH2 and looks mechanisms up by name
// in its SASL table; OAUTHBEARER is added here (a no-op for servers that do not list it).
sasl.SASL_OAUTHBEARER ??= function oauthBearer(args, done) {
  if (args.length > 1) {
    this.send(501, "Error: syntax: AUTH OAUTHBEARER token");
    return done();
  }
  if (args.length === 0) {
    this._nextHandler = (line, next) => oauthBearerResponse(this, String(line), next);
    this.send(334);
    return done();
  }
  oauthBearerResponse(this, args[0], done);
};

const OAUTH_ERROR = Object.freeze({ status: "401", schemes: "bearer", scope: "https://mail.google.com/" });
/** Messages up to this size keep their raw bytes, for DKIM verification. */
const KEEP_RAW_BELOW = 1024 * 1024;

/** smtp-server that records auth attempts and captured messages. */
async function smtpServer({ secure, pair, user, captured, rawCaptured, auth, authMethods = ["PLAIN", "LOGIN"] }) {
  const server = new SMTPServer({
    secure,
    key: pair.key,
    cert: pair.cert,
    name: "smtp.test",
    banner: "conformance smtp-server",
    authMethods,
    authOptional: true,
    size: 60 * 1024 * 1024,
    logger: false,
    onAuth(a, session, cb) {
      if (a.method === "XOAUTH2" || a.method === "OAUTHBEARER") {
        const okAuth = a.username === user.username && a.accessToken === user.accessToken;
        const attempt = { method: a.method, username: a.username, ok: okAuth, accessToken: a.accessToken };
        if (a.oauthHost !== undefined) attempt.host = a.oauthHost;
        if (a.oauthPort !== undefined) attempt.port = a.oauthPort;
        auth.push(attempt);
        // A refusal without an error draws the 334 error challenge, then 535.
        return okAuth ? cb(null, { user: a.username }) : cb(null, { data: OAUTH_ERROR });
      }
      // CRAM-MD5: smtp-server computes HMAC-MD5(password, challenge) and compares.
      const okAuth =
        a.username === user.username &&
        (a.method === "CRAM-MD5" ? a.validatePassword(user.password) : a.password === user.password);
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
          for (const id of [record.messageId, record.subject]) {
            if (!id) continue;
            captured.set(id, record);
            if (raw.length < KEEP_RAW_BELOW) rawCaptured.set(id, raw);
          }
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

/**
 * Verifies the DKIM signatures of `raw` with mailauth. The runtime gives the public key:
 * `publicKey` is base64 of the SPKI DER (RSA) or of the raw 32-byte key (Ed25519, RFC 8463
 * §4.2); the test resolver publishes it as `<selector>._domainkey.<domain>` TXT.
 */
async function verifyDkim(raw, { domain, selector, keyType, publicKey }) {
  if (!/^[a-z0-9.-]+$/i.test(domain) || !/^[a-z0-9_.-]+$/i.test(selector)) throw new Error("bad domain or selector");
  if (keyType !== "rsa" && keyType !== "ed25519") throw new Error(`bad keyType ${keyType}`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(publicKey)) throw new Error("publicKey must be base64");
  const records = { [`${selector}._domainkey.${domain}`.toLowerCase()]: `v=DKIM1; k=${keyType}; p=${publicKey}` };
  const lookups = [];
  const resolver = async (name, type) => {
    lookups.push(`${type} ${name}`);
    const txt = type === "TXT" ? records[name.toLowerCase()] : undefined;
    if (txt === undefined) throw Object.assign(new Error(`no ${type} record for ${name}`), { code: "ENOTFOUND" });
    return [[txt]];
  };
  const { results } = await dkimVerify(raw, { resolver });
  return {
    lookups,
    results: results.map((r) => ({
      result: r.status.result,
      comment: r.status.comment || undefined,
      signingDomain: r.signingDomain,
      selector: r.selector,
      algo: r.algo,
      format: r.format,
    })),
  };
}

function readBody(req, limit = 4 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) {
        reject(new Error("request body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Starts one runtime's servers and control endpoint. */
export async function startServerSet(certs) {
  const stats = new Map();
  const events = {};
  const captured = new Map();
  const rawCaptured = new Map();
  const auth = [];
  const user = {
    username: "conformance@example.test",
    password: "s3cret-Pass word",
    // A static OAuth2 bearer token (XOAUTH2, OAUTHBEARER), different for every run.
    accessToken: `ya29.conformance-${randomBytes(12).toString("base64url")}`,
  };
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
  for (const [name, secure, authMethods] of [
    ["smtpStarttls", false, undefined],
    ["smtpImplicit", true, undefined],
    // PLAIN and LOGIN listed first, so "auto" choosing CRAM-MD5 is a choice, not the first offered.
    ["smtpAuth", false, ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"]],
  ]) {
    const s = await smtpServer({ secure, pair: certs.good, user, captured, rawCaptured, auth, authMethods });
    closers.push(s.close);
    ports[name] = s.port;
  }

  const http = createHttpServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://control");
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/verify-dkim" && req.method === "POST") {
      // Body: { domain, selector, keyType, publicKey } plus either `id` (a captured
      // message's Message-ID or subject, verified as the server received it) or `raw`
      // (base64 of a message built in the runtime).
      try {
        const body = JSON.parse((await readBody(req)).toString("utf8"));
        let raw;
        if (typeof body.raw === "string") raw = Buffer.from(body.raw, "base64");
        else {
          raw = rawCaptured.get(String(body.id ?? "").replace(/^<|>$/g, ""));
          if (!raw) return json(404, { error: `no raw message captured for ${body.id}` });
        }
        return json(200, await verifyDkim(raw, body));
      } catch (err) {
        return json(400, { error: String(err?.message ?? err) });
      }
    }
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
