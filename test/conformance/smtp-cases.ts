/**
 * SMTP-level conformance cases: the real core (`createTransport`) over the runtime's
 * connector, against smtp-server and the scripted servers on the Node side.
 *
 * Workers cannot classify TLS failures (the runtime reports them opaquely), so where a
 * case expects `ECERT` it accepts the codes the core derives from an opaque failure on
 * that runtime, and records what it saw as a note.
 *
 * @module
 */

import { createTransport, type Encryption, type SmtpErrorCode, type Transport, type TransportOptions } from "../../src/mod.ts";
import { describeError, equal, ok, oneOf, rejects } from "./assert.ts";
import { type Case, type Ctx, sleep } from "./context.ts";
import { randomBytes, sha256Hex } from "./wire.ts";

/** Envelope sender and recipient the SMTP-level cases use. */
export const FROM = "sender@example.test";
export const TO = "rcpt@example.test";

/** Transport options a case may add or override. */
export type Extra = Partial<Omit<TransportOptions, "host" | "port" | "encryption" | "connector">>;

/** A transport to a Node-side server through the connector under test, trusting the test CA. */
export function transport(ctx: Ctx, port: number, encryption: Encryption, extra: Extra = {}): Transport {
  const t = ctx.tls();
  return createTransport({
    host: ctx.config.hostname,
    port,
    encryption,
    servername: t.servername,
    ...(t.ca ? { ca: t.ca } : {}),
    clientName: "conformance.test",
    timeouts: { connect: 5000, greeting: 5000, command: 5000, data: 20000, close: 1500 },
    connector: ctx.connector,
    ...extra,
  });
}

/** Runs `fn` with a transport and always closes it. */
export async function withTransport<T>(t: Transport, fn: (t: Transport) => Promise<T>): Promise<T> {
  try {
    return await fn(t);
  } finally {
    await t.close();
  }
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Expects an SmtpError with one of `codes`, and notes what it was. */
export function expectCode(ctx: Ctx, err: unknown, codes: readonly SmtpErrorCode[], what: string): void {
  ctx.note(`${what}: ${describeError(err)}`);
  const e = err as { name?: unknown } | null;
  ok(e instanceof Error && typeof codeOf(e) === "string", `${what}: expected an SmtpError, got ${describeError(err)}`);
  oneOf(codeOf(err) as SmtpErrorCode, codes, `${what} (${describeError(err)})`);
}

/** Certificate failures: ECERT where the runtime says why; Workers only say "it failed". */
function certCodes(ctx: Ctx, implicit: boolean): SmtpErrorCode[] {
  if (ctx.runtime !== "cloudflare") return ["ECERT"];
  // STARTTLS: the handshake failure surfaces as ETLS. Implicit TLS: workerd reports a
  // refused connection and a failed handshake with the same message, so ECONNECTION too.
  return implicit ? ["ECERT", "ETLS", "ECONNECTION"] : ["ECERT", "ETLS"];
}

async function waitReleased(ctx: Ctx, server: string, ms = 3000): Promise<void> {
  let last: unknown;
  const released = await ctx.control.waitFor(async () => {
    const conns = await ctx.control.conns();
    last = conns[server];
    return conns[server]?.open === 0;
  }, ms);
  ok(released, `${server}: the server still sees an open connection ${JSON.stringify(last)}`);
}

function authCase(method: "plain" | "login"): Case {
  return {
    name: `smtp: AUTH ${method.toUpperCase()} over STARTTLS, then a message sent as that user`,
    async run(ctx) {
      const { username, password } = ctx.config.user;
      const subject = `auth-${method}-${ctx.runtime}-${Date.now()}`;
      await withTransport(
        transport(ctx, ctx.config.ports.smtpStarttls, "starttls", { auth: { username, password, method } }),
        async (t) => {
          const report = await t.verify();
          equal(report.authenticated, true, "authenticated");
          equal(report.authMethod, method, "mechanism used");
          const attempts = await ctx.control.authAttempts();
          const last = attempts[attempts.length - 1];
          ok(last, "the server saw an AUTH attempt");
          equal(last.method, method.toUpperCase(), "mechanism the server saw");
          equal(last.username, username, "user name the server saw");
          equal(last.ok, true, "the server accepted the password");
          const receipt = await t.send({ from: FROM, to: TO, subject, text: `Sent with AUTH ${method}` });
          const captured = await ctx.control.fetchCaptured(receipt.messageId);
          ok(captured, `captured ${receipt.messageId}`);
          equal(captured.user, username, "session user of the captured message");
          equal(captured.subject, subject, "subject");
        },
      );
    },
  };
}

/** The SMTP-level cases. */
export const smtpCases: Case[] = [
  {
    name: "smtp: greeting and EHLO (verify, no encryption)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.smtpStarttls, "none"), async (t) => {
        const report = await t.verify();
        equal(report.secure, false, "secure");
        ok(/conformance smtp-server/.test(report.greeting), `greeting: ${report.greeting}`);
        equal(report.serverName, "smtp.test", "name in the EHLO reply");
        ok("STARTTLS" in report.extensions, `STARTTLS offered: ${JSON.stringify(report.extensions)}`);
        ok("PIPELINING" in report.extensions, "PIPELINING offered");
      });
    },
  },
  {
    name: "smtp: STARTTLS verified with the test CA (verify)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.smtpStarttls, "starttls"), async (t) => {
        const report = await t.verify();
        equal(report.secure, true, "secure after STARTTLS");
        equal(report.encryption, "starttls", "encryption");
        ok(!("STARTTLS" in report.extensions), "STARTTLS not offered again over TLS");
        ok(report.authMechanisms.includes("PLAIN") && report.authMechanisms.includes("LOGIN"), `AUTH offered: ${report.authMechanisms}`);
      });
    },
  },
  {
    name: "smtp: implicit TLS: verify and send",
    async run(ctx) {
      const { username, password } = ctx.config.user;
      await withTransport(
        transport(ctx, ctx.config.ports.smtpImplicit, "tls", { auth: { username, password } }),
        async (t) => {
          const report = await t.verify();
          equal(report.secure, true, "secure");
          equal(report.authenticated, true, "authenticated");
          const subject = `implicit-${ctx.runtime}-${Date.now()}`;
          const receipt = await t.send({ to: TO, subject, text: "Over implicit TLS" });
          equal(receipt.accepted.join(","), TO, "accepted");
          const captured = await ctx.control.fetchCaptured(receipt.messageId);
          ok(captured, "captured");
          equal(captured.envelope.from, username, "sender defaults to the user name");
        },
      );
    },
  },
  {
    name: "smtp: untrusted certificate rejected on STARTTLS (ECERT)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.untrustedStarttls, "starttls"), async (t) => {
        const err = await rejects(t.verify(), "verify against a self-signed server");
        expectCode(ctx, err, certCodes(ctx, false), "self-signed, STARTTLS");
      });
    },
  },
  {
    name: "smtp: untrusted certificate rejected on implicit TLS (ECERT)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.untrustedImplicit, "tls"), async (t) => {
        const err = await rejects(t.verify(), "verify against a self-signed server");
        expectCode(ctx, err, certCodes(ctx, true), "self-signed, implicit TLS");
      });
    },
  },
  {
    name: "smtp: wrong host name rejected on STARTTLS (ECERT)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.wrongNameStarttls, "starttls"), async (t) => {
        const err = await rejects(t.verify(), "verify against a wrong.example certificate");
        expectCode(ctx, err, certCodes(ctx, false), "wrong.example, STARTTLS");
      });
    },
  },
  {
    name: "smtp: wrong host name rejected on implicit TLS (ECERT)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.wrongNameImplicit, "tls"), async (t) => {
        const err = await rejects(t.verify(), "verify against a wrong.example certificate");
        expectCode(ctx, err, certCodes(ctx, true), "wrong.example, implicit TLS");
      });
    },
  },
  authCase("plain"),
  authCase("login"),
  {
    name: "smtp: a wrong password is rejected (EAUTH)",
    async run(ctx) {
      const { username } = ctx.config.user;
      await withTransport(
        transport(ctx, ctx.config.ports.smtpStarttls, "starttls", { auth: { username, password: "not-the-password" } }),
        async (t) => {
          const err = await rejects(t.verify(), "verify with a wrong password");
          expectCode(ctx, err, ["EAUTH"], "wrong password");
          ok(!String((err as Error).message).includes("not-the-password"), "the password is not in the message");
        },
      );
    },
  },
  {
    name: "smtp: a 5 MB attachment arrives byte-exact (sha256 via the control endpoint)",
    timeoutMs: 60_000,
    async run(ctx) {
      const { username, password } = ctx.config.user;
      const content = randomBytes(5 * 1024 * 1024);
      const digest = await sha256Hex(content);
      const subject = `attachment-${ctx.runtime}-${Date.now()}`;
      await withTransport(
        transport(ctx, ctx.config.ports.smtpStarttls, "starttls", { auth: { username, password } }),
        async (t) => {
          const receipt = await t.send({
            from: FROM,
            to: TO,
            cc: "cc@example.test",
            bcc: "bcc@example.test",
            subject,
            text: "Five megabytes attached",
            attachments: [{ filename: "payload.bin", content }],
          });
          equal(receipt.accepted.length, 3, `accepted ${receipt.accepted}`);
          const captured = await ctx.control.fetchCaptured(receipt.messageId);
          ok(captured, `captured ${receipt.messageId}`);
          equal(captured.envelope.from, FROM, "envelope sender");
          equal([...captured.envelope.to].sort().join(","), ["bcc@example.test", "cc@example.test", TO].sort().join(","), "envelope recipients");
          equal(captured.attachments.length, 1, "one attachment");
          const att = captured.attachments[0]!;
          equal(att.filename, "payload.bin", "attachment name");
          equal(att.size, content.byteLength, "decoded attachment size");
          equal(att.sha256, digest, "decoded attachment sha256");
        },
      );
    },
  },
  {
    name: "smtp: a stalled server times out (ETIMEDOUT) and the socket is released",
    async run(ctx) {
      await waitReleased(ctx, "stall");
      const started = Date.now();
      await withTransport(
        transport(ctx, ctx.config.ports.stall, "none", {
          timeouts: { connect: 3000, greeting: 3000, command: 400, data: 3000, close: 500 },
        }),
        async (t) => {
          const err = await rejects(t.verify(), "verify against a server that stops answering");
          expectCode(ctx, err, ["ETIMEDOUT"], "stalled server");
          ok(Date.now() - started < 3000, `timed out after ${Date.now() - started} ms`);
        },
      );
      await waitReleased(ctx, "stall");
    },
  },
  {
    name: "smtp: aborting mid-DATA rejects with EABORT and releases the socket",
    timeoutMs: 30_000,
    async run(ctx) {
      await waitReleased(ctx, "slowData");
      const before = (await ctx.control.events())["slowData.dataStarted"] ?? 0;
      const ac = new AbortController();
      await withTransport(transport(ctx, ctx.config.ports.slowData, "none"), async (t) => {
        const sending = t.send(
          {
            from: FROM,
            to: TO,
            subject: "never completes",
            text: "The server stops reading after 354",
            attachments: [{ filename: "big.bin", content: randomBytes(8 * 1024 * 1024) }],
          },
          { signal: ac.signal },
        );
        sending.catch(() => undefined);
        const inData = await ctx.control.waitFor(
          async () => ((await ctx.control.events())["slowData.dataStarted"] ?? 0) > before,
          10_000,
        );
        ok(inData, "the server saw DATA");
        await sleep(150);
        ac.abort(new Error("the user cancelled"));
        const err = await rejects(sending, "send aborted mid-DATA");
        expectCode(ctx, err, ["EABORT"], "abort during DATA");
      });
      await waitReleased(ctx, "slowData");
    },
  },
  {
    name: "smtp: STARTTLS injection is detected (EPROTOCOL)",
    async run(ctx) {
      await withTransport(transport(ctx, ctx.config.ports.rawInject, "starttls"), async (t) => {
        const err = await rejects(t.verify(), "verify against a server that injects plaintext");
        expectCode(ctx, err, ["EPROTOCOL"], "STARTTLS injection");
      });
    },
  },
];
