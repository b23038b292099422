// A fast, minimal SMTP sink for benchmarks: raw node:net, no parsing beyond what the
// protocol needs. It counts what it receives (connections, AUTHs, messages, sizes,
// recipients) and never keeps a message body: DATA is read by a streaming scanner that
// undoes dot-stuffing while counting bytes, BDAT by counting exactly n octets.
//
// Replies are gathered per input chunk and written with one write, in command order, so a
// pipelining client gets one reply burst per burst of commands.

import net from "node:net";
import tls from "node:tls";

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const MAX_LINE = 4096;

// Connection modes.
const COMMAND = 0;
const DATA = 1;
const BDAT = 2;
const DONE = 3; // after QUIT or STARTTLS: ignore the rest of the chunk

// DATA scanner states.
const LINE_START = 0;
const MID_LINE = 1;
const DOT_SEEN = 2; // a line began with "."
const DOT_CR = 3; // a line began with ".\r"

/** Fresh counters. */
function emptyStats() {
  return {
    connections: 0,
    open: 0,
    tlsUpgrades: 0,
    auths: 0,
    authFailures: 0,
    messages: 0,
    bytes: 0,
    sizes: [],
    recipients: [],
    viaBdat: 0,
    bdatCommands: 0,
    errors: [],
  };
}

/**
 * Creates a sink.
 * @param {object} options
 * @param {boolean} [options.chunking] advertise CHUNKING and accept BDAT
 * @param {{key: string|Buffer, cert: string|Buffer}} [options.tls] offer STARTTLS with this key and certificate
 * @param {string} [options.user] the only accepted user
 * @param {string} [options.pass] its password
 */
export function createSink(options = {}) {
  const config = {
    chunking: Boolean(options.chunking),
    tls: options.tls,
    user: options.user ?? "bench",
    pass: options.pass ?? "bench-pass",
    secureContext: options.tls ? tls.createSecureContext({ key: options.tls.key, cert: options.tls.cert }) : undefined,
  };
  let stats = emptyStats();
  const sockets = new Set();
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    new SinkConnection(socket, config, () => stats);
  });
  return {
    /** Listens on 127.0.0.1 and an ephemeral port; resolves to the port. */
    listen() {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve(server.address().port));
      });
    },
    stats: () => stats,
    reset() {
      const open = stats.open;
      stats = emptyStats();
      stats.open = open;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

class SinkConnection {
  constructor(socket, config, stats) {
    this.config = config;
    this.stats = stats;
    this.mode = COMMAND;
    this.partial = "";
    this.out = [];
    this.secure = false;
    this.greeted = false;
    this.authed = false;
    this.saslStep = null; // "plain" | "login-user" | "login-pass"
    this.tx = null; // { recipients, size }
    this.scan = LINE_START;
    this.bdatLeft = 0;
    this.bdatLast = false;
    this.onData = (chunk) => this.receive(chunk);
    const s = this.stats();
    s.connections++;
    s.open++;
    let counted = true;
    socket.on("close", () => {
      if (counted) this.stats().open--;
      counted = false;
    });
    this.attach(socket);
    socket.write("220 sink.bench ESMTP ready\r\n");
  }

  attach(socket) {
    this.socket = socket;
    socket.on("data", this.onData);
    socket.on("error", () => {});
  }

  reply(line) {
    this.out.push(line + "\r\n");
  }

  error(text) {
    const errors = this.stats().errors;
    if (errors.length < 20) errors.push(text);
  }

  flush() {
    if (this.out.length === 0) return;
    const text = this.out.length === 1 ? this.out[0] : this.out.join("");
    this.out = [];
    this.socket.write(text);
  }

  receive(chunk) {
    let at = 0;
    while (at < chunk.length && this.mode !== DONE) {
      if (this.mode === COMMAND) at = this.readCommand(chunk, at);
      else if (this.mode === DATA) at = this.readData(chunk, at);
      else at = this.readBdat(chunk, at);
    }
    this.flush();
    if (this.after) {
      const next = this.after;
      this.after = null;
      next();
    }
  }

  // ---- commands ---------------------------------------------------------------------

  readCommand(chunk, at) {
    const end = chunk.indexOf(LF, at);
    if (end === -1) {
      this.partial += chunk.latin1Slice(at, chunk.length);
      if (this.partial.length > MAX_LINE) {
        this.partial = "";
        this.reply("500 5.5.6 Line too long");
        this.error("line too long");
      }
      return chunk.length;
    }
    let line = this.partial + chunk.latin1Slice(at, end);
    this.partial = "";
    if (line.endsWith("\r")) line = line.slice(0, -1);
    this.command(line);
    return end + 1;
  }

  command(line) {
    if (this.saslStep) return this.sasl(line);
    const space = line.indexOf(" ");
    const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
    const arg = space === -1 ? "" : line.slice(space + 1);
    switch (verb) {
      case "EHLO":
        this.greeted = true;
        this.tx = null;
        return this.ehlo();
      case "HELO":
        this.greeted = true;
        this.tx = null;
        return this.reply("250 sink.bench");
      case "STARTTLS":
        return this.startTls();
      case "AUTH":
        return this.auth(arg);
      case "MAIL":
        if (this.tx) return this.fail("503 5.5.1 Nested MAIL command");
        this.tx = { recipients: 0, size: 0 };
        return this.reply("250 2.1.0 Sender OK");
      case "RCPT":
        if (!this.tx) return this.fail("503 5.5.1 RCPT without MAIL");
        this.tx.recipients++;
        return this.reply("250 2.1.5 Recipient OK");
      case "DATA":
        if (!this.tx || this.tx.recipients === 0) return this.fail("503 5.5.1 DATA without recipients");
        this.mode = DATA;
        this.scan = LINE_START;
        return this.reply("354 End data with <CR><LF>.<CR><LF>");
      case "BDAT":
        return this.bdat(arg);
      case "RSET":
        this.tx = null;
        return this.reply("250 2.0.0 Reset");
      case "NOOP":
        return this.reply("250 2.0.0 OK");
      case "QUIT":
        this.reply("221 2.0.0 Bye");
        this.mode = DONE;
        this.after = () => this.socket.end();
        return;
      default:
        return this.fail(`500 5.5.2 Unknown command ${verb.slice(0, 20)}`);
    }
  }

  fail(reply) {
    this.error(reply);
    this.reply(reply);
  }

  ehlo() {
    const c = this.config;
    const ext = ["PIPELINING", "8BITMIME", "SIZE 104857600", "ENHANCEDSTATUSCODES"];
    if (c.tls && !this.secure) ext.push("STARTTLS");
    // Like most submission servers: with STARTTLS on offer, AUTH only after the upgrade.
    if (!c.tls || this.secure) ext.push("AUTH PLAIN LOGIN");
    if (c.chunking) ext.push("CHUNKING");
    this.reply("250-sink.bench greets you");
    ext.forEach((e, i) => this.reply(`250${i === ext.length - 1 ? " " : "-"}${e}`));
  }

  startTls() {
    if (!this.config.tls || this.secure) return this.fail("502 5.5.1 STARTTLS not available");
    this.reply("220 2.0.0 Ready to start TLS");
    // Anything after STARTTLS in the same chunk was sent in plaintext: drop it (RFC 3207 §4.2).
    this.mode = DONE;
    this.after = () => {
      const plain = this.socket;
      plain.off("data", this.onData);
      const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: this.config.secureContext });
      this.secure = true;
      this.greeted = false;
      this.authed = false;
      this.tx = null;
      this.partial = "";
      this.mode = COMMAND;
      this.stats().tlsUpgrades++;
      this.attach(secure);
    };
  }

  auth(arg) {
    if (this.authed) return this.fail("503 5.5.1 Already authenticated");
    const [mech = "", initial] = arg.split(" ");
    const mechanism = mech.toUpperCase();
    if (mechanism === "PLAIN") {
      if (initial === undefined) {
        this.saslStep = "plain";
        return this.reply("334 ");
      }
      return this.checkPlain(initial);
    }
    if (mechanism === "LOGIN") {
      if (initial === undefined) {
        this.saslStep = "login-user";
        return this.reply("334 VXNlcm5hbWU6");
      }
      this.loginUser = decode(initial);
      this.saslStep = "login-pass";
      return this.reply("334 UGFzc3dvcmQ6");
    }
    return this.fail("504 5.5.4 Unrecognized authentication type");
  }

  sasl(line) {
    const step = this.saslStep;
    this.saslStep = null;
    if (line === "*") return this.fail("501 5.0.0 Authentication cancelled");
    if (step === "plain") return this.checkPlain(line);
    if (step === "login-user") {
      this.loginUser = decode(line);
      this.saslStep = "login-pass";
      return this.reply("334 UGFzc3dvcmQ6");
    }
    this.granted(this.loginUser === this.config.user && decode(line) === this.config.pass);
  }

  checkPlain(token) {
    const [, user, pass] = decode(token).split("\0");
    this.granted(user === this.config.user && pass === this.config.pass);
  }

  granted(ok) {
    const s = this.stats();
    if (ok) {
      this.authed = true;
      s.auths++;
      this.reply("235 2.7.0 Authentication successful");
    } else {
      s.authFailures++;
      this.fail("535 5.7.8 Authentication credentials invalid");
    }
  }

  // ---- DATA: streaming end detection and dot-unstuffing -----------------------------

  // Only a line that starts with "." needs a look, so the scanner searches natively for
  // dots and checks the byte before each, instead of stopping at every line: a large
  // attachment (base64 has no dots) costs one search per chunk, and the sink is never the
  // slow side of a benchmark.
  readData(chunk, at) {
    const n = chunk.length;
    let i = at;
    let size = this.tx.size;
    while (i < n) {
      switch (this.scan) {
        case LINE_START:
          if (chunk[i] === DOT) {
            this.scan = DOT_SEEN;
            i++;
            continue;
          }
          this.scan = MID_LINE;
        // falls through
        case MID_LINE: {
          // i is not a line start here, so a dot at i is not a leading one.
          let dot = chunk.indexOf(DOT, i + 1);
          while (dot !== -1 && chunk[dot - 1] !== LF) dot = chunk.indexOf(DOT, dot + 1);
          const dotLine = dot === -1 ? -1 : dot - 1;
          if (dotLine === -1) {
            size += n - i;
            // A line may still start right after this chunk.
            this.scan = chunk[n - 1] === LF ? LINE_START : MID_LINE;
            i = n;
          } else {
            size += dotLine + 1 - i;
            i = dotLine + 1;
            this.scan = LINE_START;
          }
          continue;
        }
        case DOT_SEEN:
          // A leading dot is removed (RFC 5321 §4.5.2); ".\r\n" alone ends the data.
          if (chunk[i] === CR) {
            this.scan = DOT_CR;
            i++;
          } else {
            this.scan = MID_LINE;
          }
          continue;
        case DOT_CR:
          if (chunk[i] === LF) {
            this.tx.size = size;
            this.mode = COMMAND;
            this.delivered(false);
            return i + 1;
          }
          size += 1; // ".\r" then something else: keep the CR, drop the dot
          this.scan = MID_LINE;
          continue;
      }
    }
    this.tx.size = size;
    return n;
  }

  // ---- BDAT (RFC 3030) --------------------------------------------------------------

  bdat(arg) {
    const [count, last, extra] = arg.split(" ");
    const size = /^\d{1,10}$/.test(count ?? "") ? Number(count) : NaN;
    if (!this.config.chunking || Number.isNaN(size) || extra !== undefined || (last !== undefined && last.toUpperCase() !== "LAST")) {
      return this.fail("501 5.5.4 Bad BDAT command");
    }
    this.stats().bdatCommands++;
    this.bdatLeft = size;
    this.bdatLast = last !== undefined;
    this.bdatValid = Boolean(this.tx && this.tx.recipients > 0);
    if (this.bdatValid) this.tx.bdat = true;
    this.mode = BDAT;
    if (size === 0) this.bdatDone();
  }

  readBdat(chunk, at) {
    const take = Math.min(this.bdatLeft, chunk.length - at);
    this.bdatLeft -= take;
    if (this.bdatValid) this.tx.size += take;
    if (this.bdatLeft === 0) this.bdatDone();
    return at + take;
  }

  bdatDone() {
    this.mode = COMMAND;
    if (!this.bdatValid) {
      this.tx = null;
      return this.fail("503 5.5.1 BDAT without sender and recipients");
    }
    if (this.bdatLast) this.delivered(true);
    else this.reply("250 2.0.0 Chunk received");
  }

  delivered(viaBdat) {
    const s = this.stats();
    const tx = this.tx;
    this.tx = null;
    s.messages++;
    s.bytes += tx.size;
    if (s.sizes.length < 5000) {
      s.sizes.push(tx.size);
      s.recipients.push(tx.recipients);
    }
    if (viaBdat) s.viaBdat++;
    this.reply(`250 2.0.0 OK queued as ${s.messages}`);
  }
}

function decode(base64) {
  return Buffer.from(base64, "base64").toString("utf8");
}
