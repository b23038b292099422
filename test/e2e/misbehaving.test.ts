// The client against a server that breaks the rules on cue: every failure must come out as
// the right SmtpError (class, code, phase, retry verdict), quickly, with the socket gone,
// no credential over plaintext when TLS was asked for, and no send reported delivered
// unless the server said 2xx to the final dot.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createTransport,
  SmtpError,
  type SendReceipt,
  type Transport,
  type TransportOptions,
} from "../../entries/node.ts";
import { loadEngine } from "../../src/engine-loader.ts";
import { getTestCerts } from "../helpers/certs.ts";
import {
  startMisbehavingServer,
  type MisbehavingServer,
  type MisbehavingServerOptions,
  type Step,
} from "../helpers/misbehaving-server.ts";

const FAST = { connect: 300, greeting: 300, command: 300, data: 300, close: 300 };
const USER = "user@example.com";
const PASSWORD = "Sesame-0pen";
const CREDENTIAL_FORMS = [
  PASSWORD,
  Buffer.from(PASSWORD, "utf8").toString("base64"),
  Buffer.from(`\0${USER}\0${PASSWORD}`, "utf8").toString("base64"),
];
const MESSAGE = { from: "sender@example.com", to: "rcpt@example.com", subject: "Status", text: "All good.\n" };
// Big enough that the client is still writing when the server stalls or resets.
const BIG_MESSAGE = { ...MESSAGE, attachments: [{ filename: "blob.bin", content: new Uint8Array(6 * 1024 * 1024).fill(0x5a) }] };

let servers: MisbehavingServer[] = [];
let transports: Transport[] = [];
let sends: { server: MisbehavingServer; delivered: boolean }[] = [];

beforeAll(async () => {
  getTestCerts(); // openssl runs once here, not inside a timed test
  await loadEngine(); // so is the first send's load of the engine (src/engine-loader.ts)
});

afterEach(async () => {
  const open = servers.splice(0);
  const made = transports.splice(0);
  const done = sends.splice(0);
  try {
    // No send is reported delivered unless the server said 2xx to its final dot.
    for (const { server, delivered } of done) {
      if (delivered) expect(server.messages.some((m) => m.accepted)).toBe(true);
    }
    // The client let go of every connection: the server saw each one close.
    for (const server of open) {
      expect(await server.waitForAllClosed(1000), "every client connection closed").toBe(true);
    }
  } finally {
    await Promise.all(made.map((t) => t.close()));
    await Promise.all(open.map((s) => s.close()));
  }
  // Nothing of ours keeps the process alive: no TCP handle is left once the server is gone.
  expect(await tcpHandlesGone(500)).toEqual([]);
});

/** Polls until no TCP handle is active; returns what is left after `ms`. */
async function tcpHandlesGone(ms: number): Promise<string[]> {
  const until = performance.now() + ms;
  for (;;) {
    const left = process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP"));
    if (left.length === 0 || performance.now() > until) return left;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function serve(options: MisbehavingServerOptions): Promise<MisbehavingServer> {
  const server = await startMisbehavingServer({ password: PASSWORD, ...options });
  servers.push(server);
  return server;
}

function transport(server: MisbehavingServer, extra: Partial<TransportOptions> = {}): Transport {
  const t = createTransport({
    host: server.host,
    port: server.port,
    encryption: "none",
    timeouts: FAST,
    ...extra,
  });
  transports.push(t);
  return t;
}

/** A transport that must negotiate STARTTLS and then log in. */
function secureTransport(server: MisbehavingServer, extra: Partial<TransportOptions> = {}): Transport {
  return transport(server, {
    encryption: "starttls",
    ca: server.caPem,
    auth: { username: USER, password: PASSWORD, method: "plain" },
    ...extra,
  });
}

/** Sends and returns the error; a resolved send is recorded for the delivery check. */
async function sendFails(
  server: MisbehavingServer,
  t: Transport,
  message: Parameters<Transport["send"]>[0] = MESSAGE,
  options: Parameters<Transport["send"]>[1] = {},
): Promise<SmtpError> {
  let receipt: SendReceipt | undefined;
  let error: unknown;
  try {
    receipt = await t.send(message, options);
  } catch (e) {
    error = e;
  }
  sends.push({ server, delivered: receipt !== undefined });
  expect(receipt, "the send must not be reported delivered").toBeUndefined();
  expect(error).toBeInstanceOf(SmtpError);
  return error as SmtpError;
}

/** Asserts that no AUTH command and no form of the password ever travelled in plaintext. */
function expectNoPlaintextCredentials(server: MisbehavingServer): void {
  const plainLines = server.lines.filter((l) => !l.encrypted).map((l) => l.line);
  expect(plainLines.filter((l) => /^AUTH\b/i.test(l))).toEqual([]);
  const raw = server.plaintext();
  for (const form of CREDENTIAL_FORMS) expect(raw.includes(form), `plaintext contains ${form}`).toBe(false);
  expect(server.auths.filter((a) => !a.encrypted)).toEqual([]);
}

function elapsedSince(start: number): number {
  return performance.now() - start;
}

describe("greeting", () => {
  it("a server that never greets: greeting timeout", async () => {
    const server = await serve({ behaviour: "never-greet" });
    const start = performance.now();
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "greeting", retryable: true });
    expect(elapsedSince(start)).toBeLessThan(800);
    expect(server.lines).toEqual([]);
  }, 1500);

  it("a 554 greeting: permanent service error, nothing sent", async () => {
    const server = await serve({ behaviour: "greet-554" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({
      name: "SmtpConnectionError", code: "ESERVICE", phase: "greeting", retryable: false, replyCode: 554,
    });
    expect(server.lines.filter((l) => l.line !== "QUIT")).toEqual([]);
  }, 1500);

  it("a greeting that is not an SMTP reply: protocol error", async () => {
    const server = await serve({ behaviour: "greet-garbage" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "greeting", retryable: false });
  }, 1500);
});

describe("broken replies (to EHLO)", () => {
  it("a reply that stalls after its first line: command timeout", async () => {
    const server = await serve({ behaviour: "stall-mid-reply", at: "ehlo" });
    const start = performance.now();
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "greeting", retryable: true });
    expect(elapsedSince(start)).toBeLessThan(800);
  }, 1500);

  it("a reply trickled one byte per 100 ms still times out: the deadline is per reply, not per byte", async () => {
    const server = await serve({ behaviour: "trickle", at: "ehlo", trickleMs: 100 });
    const start = performance.now();
    const error = await sendFails(server, transport(server));
    const elapsed = elapsedSince(start);
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "greeting", retryable: true });
    expect(server.trickled).toBeGreaterThanOrEqual(2); // bytes kept coming while the deadline ran
    expect(elapsed).toBeLessThan(800);
  }, 1500);

  it("binary garbage instead of a reply: protocol error", async () => {
    const server = await serve({ behaviour: "garbage", at: "ehlo" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "greeting", retryable: false });
  }, 1500);

  it("a multi-line reply that changes its code (250- then 251): protocol error", async () => {
    const server = await serve({ behaviour: "inconsistent-multiline", at: "ehlo" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "greeting", retryable: false });
  }, 1500);

  it("a 100 KB reply line: protocol error, not unbounded buffering", async () => {
    const server = await serve({ behaviour: "huge-line", at: "ehlo" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "greeting", retryable: false });
  }, 1500);

  it("a reply that stalls mid-way at MAIL: timeout in the envelope phase", async () => {
    const server = await serve({ behaviour: "stall-mid-reply", at: "mail" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "envelope", retryable: true });
  }, 1500);
});

describe("421 at each step: retryable ESERVICE, the connection dropped, nothing delivered", () => {
  const cases: { at: Step; phase: string; command: string }[] = [
    { at: "greeting", phase: "greeting", command: "(greeting)" },
    { at: "ehlo", phase: "greeting", command: "EHLO" },
    { at: "starttls", phase: "tls", command: "STARTTLS" },
    { at: "auth", phase: "auth", command: "AUTH PLAIN" },
    { at: "mail", phase: "envelope", command: "MAIL FROM" },
    { at: "rcpt", phase: "envelope", command: "RCPT TO" },
    { at: "data", phase: "data", command: "DATA" },
    { at: "end-of-data", phase: "data", command: "(end of data)" },
  ];
  for (const { at, phase, command } of cases) {
    it(`421 at ${at}`, async () => {
      const server = await serve({ behaviour: "reply-421", at, starttls: true });
      const error = await sendFails(server, secureTransport(server));
      expect(error).toMatchObject({
        name: "SmtpConnectionError", code: "ESERVICE", retryable: true, phase, command, replyCode: 421, enhancedCode: "4.3.2",
      });
      expect(server.messages.filter((m) => m.accepted)).toEqual([]);
      expectNoPlaintextCredentials(server);
    }, 1500);
  }
});

describe("STARTTLS", () => {
  it("a 454 refusal: retryable ESTARTTLS, and no AUTH in plaintext", async () => {
    const server = await serve({ behaviour: "starttls-454", starttls: true });
    const error = await sendFails(server, secureTransport(server));
    expect(error).toMatchObject({
      name: "SmtpTlsError", code: "ESTARTTLS", phase: "tls", retryable: true, command: "STARTTLS", replyCode: 454,
    });
    expectNoPlaintextCredentials(server);
  }, 1500);

  it("garbage instead of a ServerHello: ETLS, and no AUTH in plaintext", async () => {
    const server = await serve({ behaviour: "tls-handshake-garbage", starttls: true });
    const error = await sendFails(server, secureTransport(server));
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ETLS", phase: "tls" });
    expectNoPlaintextCredentials(server);
  }, 1500);

  it("the server closing during the handshake: ETLS, and no AUTH in plaintext", async () => {
    const server = await serve({ behaviour: "tls-handshake-close", starttls: true });
    const error = await sendFails(server, secureTransport(server));
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ETLS", phase: "tls" });
    expectNoPlaintextCredentials(server);
  }, 1500);

  it("plaintext injected after the 220: EPROTOCOL, and the client says nothing more", async () => {
    const server = await serve({ behaviour: "starttls-injection", starttls: true });
    const error = await sendFails(server, secureTransport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "tls", retryable: false });
    expect(server.lines.map((l) => l.line.split(" ")[0])).toEqual(["EHLO", "STARTTLS"]);
    expectNoPlaintextCredentials(server);
  }, 1500);

  it("EHLO refused with HELO working cannot negotiate STARTTLS: ESTARTTLS before any AUTH", async () => {
    const server = await serve({ behaviour: "ehlo-502", starttls: true });
    const error = await sendFails(server, secureTransport(server));
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ESTARTTLS", phase: "tls", retryable: false });
    expectNoPlaintextCredentials(server);
  }, 1500);

  it("(self-check) the plaintext check does catch AUTH sent without TLS", async () => {
    const server = await serve({ starttls: true });
    await secureTransport(server, { encryption: "none" }).verify();
    expect(() => expectNoPlaintextCredentials(server)).toThrow();
  }, 1500);

  it("when all goes well, AUTH and the message travel only over TLS", async () => {
    const server = await serve({ starttls: true });
    const receipt = await secureTransport(server).send(MESSAGE);
    sends.push({ server, delivered: true });
    expect(receipt.accepted).toEqual(["rcpt@example.com"]);
    expect(server.auths).toEqual([expect.objectContaining({ mechanism: "PLAIN", success: true, encrypted: true })]);
    expect(server.messages).toEqual([expect.objectContaining({ complete: true, accepted: true, encrypted: true })]);
    expectNoPlaintextCredentials(server);
  }, 1500);
});

describe("the connection lost during DATA", () => {
  it("a reset mid-body: ECONNRESET, retryable, and not reported delivered", async () => {
    const server = await serve({ behaviour: "reset-mid-body" });
    const error = await sendFails(server, transport(server), BIG_MESSAGE);
    expect(error).toMatchObject({ name: "SmtpConnectionError", code: "ECONNRESET", phase: "data", retryable: true });
    expect(server.messages).toEqual([expect.objectContaining({ complete: false, accepted: false })]);
  }, 1500);

  it("a reset right after the final dot: EINDETERMINATE (it may have been delivered), not retryable", async () => {
    const server = await serve({ behaviour: "reset-after-dot" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpIndeterminateError", code: "EINDETERMINATE", phase: "data", retryable: false });
    expect(server.messages).toEqual([expect.objectContaining({ complete: true, accepted: false })]);
  }, 1500);

  it("no reply after the final dot: EINDETERMINATE, not a retryable timeout", async () => {
    const server = await serve({ behaviour: "silent", at: "end-of-data" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpIndeterminateError", code: "EINDETERMINATE", phase: "data", retryable: false });
  }, 1500);
});

describe("EHLO refused", () => {
  it("502 to EHLO: falls back to HELO and delivers", async () => {
    const server = await serve({ behaviour: "ehlo-502" });
    const smtp = transport(server);
    const receipt = await smtp.send(MESSAGE);
    await smtp.close(); // QUIT goes out in the background; close() waits for it
    sends.push({ server, delivered: true });
    expect(receipt.accepted).toEqual(["rcpt@example.com"]);
    expect(server.lines.map((l) => l.line.split(/[ :]/)[0])).toEqual(["EHLO", "HELO", "MAIL", "RCPT", "DATA", "QUIT"]);
    expect(server.messages).toEqual([expect.objectContaining({ complete: true, accepted: true })]);
  }, 1500);
});

// An SMTP server speaks only when spoken to (apart from the greeting). Bytes no command
// awaited put every later reply out of step, so the client must stop with EPROTOCOL rather
// than pair replies with the wrong commands.
describe("unsolicited replies", () => {
  it("an extra 250 right after the greeting: EPROTOCOL, never taken as the EHLO reply", async () => {
    const server = await serve({ behaviour: "unsolicited-after-greeting" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "greeting", retryable: false });
  }, 1500);

  it("an extra 250 after the EHLO reply, before MAIL: EPROTOCOL, never taken as the MAIL reply", async () => {
    const server = await serve({ behaviour: "unsolicited-after-ehlo" });
    const error = await sendFails(server, transport(server));
    // Visible once the EHLO reply is read (greeting), or at the latest before MAIL goes out (envelope).
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", retryable: false });
    expect(["greeting", "envelope"]).toContain(error.phase);
    expect(server.messages).toEqual([]);
  }, 1500);

  it("a 250 sent with the 354, before the body: EPROTOCOL, never taken as acceptance of the message", async () => {
    // The server really refuses the message (554 after the dot); a client that paired the
    // early 250 with the dot would report a refused message as delivered.
    const server = await serve({ behaviour: "unsolicited-in-data" });
    const error = await sendFails(server, transport(server));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "data", retryable: false });
  }, 1500);
});

describe("deadlines and cancellation while the server stalls reading the body", () => {
  it("the send's overall timeout: ETIMEDOUT promptly, and the socket destroyed", async () => {
    const server = await serve({ behaviour: "stall-reading-in-data", stallMs: 600 });
    const t = transport(server, { timeouts: { ...FAST, command: 5000, data: 5000 } });
    const sent = sendFails(server, t, BIG_MESSAGE, { timeout: 300 });
    await server.waitForBodyBytes(1); // the 300 ms started before this
    const bodyStarted = performance.now();
    const error = await sent;
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "data", retryable: true });
    expect(elapsedSince(bodyStarted)).toBeLessThan(350);
    expect(await server.waitForAllClosed(800)).toBe(true);
  }, 1500);

  it("an AbortSignal fired mid-DATA: EABORT promptly, and the socket destroyed", async () => {
    const server = await serve({ behaviour: "stall-reading-in-data", stallMs: 300 });
    const t = transport(server, { timeouts: { ...FAST, command: 5000, data: 5000 } });
    const controller = new AbortController();
    const sent = sendFails(server, t, BIG_MESSAGE, { signal: controller.signal });
    await server.waitForBodyBytes(64 * 1024);
    const abortedAt = performance.now();
    controller.abort();
    const error = await sent;
    expect(error).toMatchObject({ name: "SmtpAbortError", code: "EABORT", phase: "data", retryable: false });
    expect(elapsedSince(abortedAt)).toBeLessThan(100);
    expect(await server.waitForAllClosed(800)).toBe(true);
  }, 1500);

  it("without an overall timeout, the per-write deadline fires: ETIMEDOUT in the data phase", async () => {
    const server = await serve({ behaviour: "stall-reading-in-data", stallMs: 600 });
    const sent = sendFails(server, transport(server), BIG_MESSAGE);
    await server.waitForBodyBytes(64 * 1024); // the server stops reading here
    const stalledAt = performance.now();
    const error = await sent;
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "data", retryable: true });
    expect(elapsedSince(stalledAt)).toBeLessThan(450);
    expect(await server.waitForAllClosed(800)).toBe(true);
  }, 1500);
});
