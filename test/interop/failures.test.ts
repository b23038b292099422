// What must fail against the real Postfix, and how: the right error class and code, at the
// right moment, and without sending what must not be sent (AUTH over plaintext, a body
// the server has already said it will refuse).
import { describe, it } from "vitest";
import { composeMessage } from "../../src/mime/compose.ts";
import {
  createTransport,
  executeSmtpNode,
  SmtpAuthError,
  SmtpError,
  SmtpMessageError,
  SmtpTlsError,
  type MailMessage,
} from "../../entries/node.ts";
import {
  credential,
  interopEnv,
  modes,
  readCopy,
  removeCopies,
  startRecordingProxy,
  transcript,
  uniqueTag,
  waitForCopies,
  type AuthMethod,
} from "./helpers.ts";

const env = interopEnv();
const WRONG_PASSWORD = "definitely-not-the-password";

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<SmtpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SmtpError) return error;
    throw new Error(`expected an SmtpError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected the call to fail, but it succeeded");
}

function sendNode(to: string, subject: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { resource: "email", operation: "send", parameters: { to: [to], subject, body: "Should never arrive.\n", ...extra } };
}

/** Base64 that decodes to `bytes` bytes (all "A" = zero bytes, cheap to build). */
function zeroBase64(bytes: number): string {
  return "A".repeat(Math.ceil(bytes / 3) * 4);
}

describe.concurrent("wrong password: SmtpAuthError EAUTH on every port", () => {
  const cases = modes().flatMap((mode) => (["login", "plain"] as AuthMethod[]).map((authMethod) => ({ ...mode, authMethod })));
  it.for(cases)("$label: port $port, $encryption, AUTH $authMethod", async ({ port, encryption, authMethod }, { expect }) => {
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${uniqueTag()}@example.test`, "wrong password"),
      { credential: credential(port, encryption, authMethod, WRONG_PASSWORD) },
      { ca: env.ca, timeout: 20_000 },
    ));
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error.code).toBe("EAUTH");
    expect(error.phase).toBe("auth");
    expect(error.retryable).toBe(false);
    expect(error.replyCode).toBe(535);
    expect(error.enhancedCode).toBe("5.7.8");
    expect(error.command).toBe(`AUTH ${authMethod.toUpperCase()}`);
    const dump = JSON.stringify(error.toJSON()) + String(error.stack);
    expect(dump).not.toContain(WRONG_PASSWORD);
    expect(dump).not.toContain(Buffer.from(WRONG_PASSWORD).toString("base64"));
  });
});

describe.concurrent("TLS failures", () => {
  it("starttls against the plain port 10025: SmtpTlsError ESTARTTLS before any AUTH", async ({ expect }) => {
    const port = env.ports.plain;
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${uniqueTag()}@example.test`, "starttls on plain"),
      { credential: credential(port, "starttls", "login") },
      { ca: env.ca, timeout: 20_000 },
    ));
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error.code).toBe("ESTARTTLS");
    expect(error.phase).toBe("tls");

    // The same through a transcript logger and a proxy that records the bytes on the wire.
    const proxy = await startRecordingProxy(port);
    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: proxy.port, encryption: "starttls", ca: env.ca, logger: log.logger,
      auth: { username: env.user, password: env.password, method: "plain" },
    });
    try {
      const again = await rejection(smtp.send({ to: `never-${uniqueTag()}@example.test`, subject: "starttls on plain", text: "no" }, { timeout: 20_000 }));
      expect(again).toBeInstanceOf(SmtpTlsError);
      expect(again.code).toBe("ESTARTTLS");
    } finally {
      await smtp.close();
      await proxy.close();
    }
    const client = log.client();
    expect(client[0], log.text()).toMatch(/^EHLO /);
    expect(log.lines.some((l) => l.direction === "server" && /^250[ -]PIPELINING/.test(l.line)), log.text()).toBe(true);
    expect(client.filter((l) => /^(AUTH|MAIL|RCPT|DATA|BDAT|STARTTLS)\b/i.test(l)), log.text()).toEqual([]);
    const wire = proxy.clientBytes();
    expect(wire).toMatch(/^EHLO /);
    expect(wire.toUpperCase()).not.toContain("AUTH");
    expect(wire).not.toContain(env.password);
    expect(wire).not.toContain(Buffer.from(env.password).toString("base64"));
    expect(wire).not.toContain(Buffer.from(`\0${env.user}\0${env.password}`).toString("base64"));
  });

  it("implicit TLS (10465) without the CA: SmtpTlsError ECERT", async ({ expect }) => {
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${uniqueTag()}@example.test`, "no CA"),
      { credential: credential(env.ports.smtps, "tls", "login") },
      { timeout: 20_000 },
    ));
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error.code).toBe("ECERT");
    expect(error.retryable).toBe(false);
  });

  it("STARTTLS (10587) without the CA: SmtpTlsError ECERT, no AUTH sent", async ({ expect }) => {
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${uniqueTag()}@example.test`, "no CA"),
      { credential: credential(env.ports.submission, "starttls", "plain") },
      { timeout: 20_000 },
    ));
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error.code).toBe("ECERT");

    const proxy = await startRecordingProxy(env.ports.submission);
    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: proxy.port, encryption: "starttls", logger: log.logger,
      auth: { username: env.user, password: env.password, method: "plain" },
    });
    try {
      const again = await rejection(smtp.verify({ timeout: 20_000 }));
      expect(again.code).toBe("ECERT");
    } finally {
      await smtp.close();
      await proxy.close();
    }
    expect(log.client(), log.text()).toEqual([expect.stringMatching(/^EHLO /), "STARTTLS"]);
    // Only the EHLO and STARTTLS went out in clear; the handshake failed before anything else.
    const wire = proxy.clientBytes();
    const clear = wire.slice(0, wire.indexOf("STARTTLS\r\n") + "STARTTLS\r\n".length);
    expect(clear).toMatch(/^EHLO [^\r\n]+\r\nSTARTTLS\r\n$/);
    expect(wire).not.toContain(Buffer.from(`\0${env.user}\0${env.password}`).toString("base64"));
  });

  it("encryption tls against the STARTTLS port 10587: ETLSMODE", async ({ expect }) => {
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${uniqueTag()}@example.test`, "tls on 587"),
      { credential: credential(env.ports.submission, "tls", "login") },
      { ca: env.ca, timeout: 20_000 },
    ));
    expect(error).toBeInstanceOf(SmtpTlsError);
    expect(error.code).toBe("ETLSMODE");
  });

  it("encryption none against the STARTTLS port 10587: AUTH is not offered in clear (EAUTHMECH)", async ({ expect }) => {
    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: env.ports.submission, encryption: "none", logger: log.logger,
      auth: { username: env.user, password: env.password, method: "login" },
    });
    let error: SmtpError;
    try {
      error = await rejection(smtp.send({ to: `never-${uniqueTag()}@example.test`, subject: "none on 587", text: "no" }, { timeout: 20_000 }));
    } finally {
      await smtp.close();
    }
    expect(error).toBeInstanceOf(SmtpAuthError);
    expect(error.code).toBe("EAUTHMECH");
    expect(log.client().filter((l) => /^(AUTH|MAIL|BDAT|DATA)\b/.test(l)), log.text()).toEqual([]);
  });
});

describe.concurrent("size limit (SIZE 10485760)", () => {
  it("a message over the limit: SmtpMessageError ESIZE before any DATA/BDAT", async ({ expect }) => {
    const tag = uniqueTag();
    const attachments = [{ filename: "too-big.bin", content: zeroBase64(env.sizeLimit + 1024 * 1024) }];
    const error = await rejection(executeSmtpNode(
      sendNode(`never-${tag}@example.test`, `too big ${tag}`, { attachments }),
      { credential: credential(env.ports.submission, "starttls", "login") },
      { ca: env.ca, timeout: 30_000 },
    ));
    expect(error).toBeInstanceOf(SmtpMessageError);
    expect(error.code).toBe("ESIZE");
    expect(error.retryable).toBe(false);

    // With a transcript: the session is up (EHLO announced SIZE, AUTH done), then nothing
    // of the message goes out. The transport stays usable for a message that fits.
    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: env.ports.submission, encryption: "starttls", ca: env.ca, logger: log.logger,
      auth: { username: env.user, password: env.password, method: "plain" }, idleTimeout: 5_000,
    });
    let paths: string[] = [];
    try {
      const again = await rejection(smtp.send({
        to: `never-${tag}@example.test`, subject: `too big ${tag}`, text: "x",
        attachments: [{ filename: "too-big.bin", content: new Uint8Array(env.sizeLimit + 1) }],
      }, { timeout: 30_000 }));
      expect(again).toBeInstanceOf(SmtpMessageError);
      expect(again.code).toBe("ESIZE");
      const client = log.client();
      expect(log.lines.some((l) => l.direction === "server" && l.line === `250-SIZE ${env.sizeLimit}`), log.text()).toBe(true);
      expect(client.some((l) => /^AUTH PLAIN/.test(l)), log.text()).toBe(true);
      expect(client.filter((l) => /^(DATA|BDAT)\b/.test(l)), log.text()).toEqual([]);

      const fits = await smtp.send({ to: `fits-${tag}@example.test`, subject: `fits ${tag}`, text: "This one fits.\n" }, { timeout: 30_000 });
      paths = await waitForCopies(fits.messageId, 1);
      expect(paths).toHaveLength(1);
    } finally {
      await smtp.close();
    }
    await removeCopies(paths);
  });

  it("a message the client thinks fits but Postfix counts over the limit: 552 5.3.4 after the final dot is ESIZE, and the connection goes on", async ({ expect }) => {
    const tag = uniqueTag();
    const limit = env.sizeLimit;
    // Composed size limit - 64: under the announced SIZE, but Postfix counts its own
    // Received header and envelope records too (message_size_limit), so it refuses.
    const build = (pad: number): MailMessage => ({
      to: `edge-${tag}@example.test`, subject: `edge ${tag}`,
      text: `${"x".repeat(pad % 900)}\n${`${"y".repeat(899)}\n`.repeat(Math.floor(pad / 900))}`,
      attachments: [{ filename: "edge.bin", content: new Uint8Array(7_000_000) }],
    });
    let pad = 0;
    let message = build(pad);
    let size = composeMessage(message, { defaultFrom: env.user }).size;
    for (let i = 0; i < 20 && size !== limit - 64; i++) {
      pad += limit - 64 - size;
      message = build(pad);
      size = composeMessage(message, { defaultFrom: env.user }).size;
    }
    expect(size).toBe(limit - 64);

    const log = transcript();
    const smtp = createTransport({
      host: "localhost", port: env.ports.plain, encryption: "none", logger: log.logger,
      auth: { username: env.user, password: env.password, method: "login" }, idleTimeout: 5_000,
    });
    let paths: string[] = [];
    try {
      const error = await rejection(smtp.send(message, { timeout: 30_000 }));
      expect(error).toBeInstanceOf(SmtpMessageError);
      expect(error.code, log.text()).toBe("ESIZE");
      expect(error.phase).toBe("data");
      expect(error.replyCode).toBe(552);
      expect(error.enhancedCode).toBe("5.3.4");
      // The plain port offers no CHUNKING: the message went with DATA and was refused after
      // its final dot (the BDAT form of this refusal is covered in send.test.ts).
      expect(log.client()).toContain("DATA");
      expect(log.client().filter((l) => l.startsWith("BDAT"))).toEqual([]);

      const next = await smtp.send({ to: `edge-next-${tag}@example.test`, subject: `after edge ${tag}`, text: "Next.\n" }, { timeout: 30_000 });
      paths = await waitForCopies(next.messageId, 1);
      const parsed = await readCopy(paths[0] as string);
      expect(parsed.header("Subject")).toEqual([`after edge ${tag}`]);
      // Same connection: one greeting, one EHLO, one AUTH for both messages.
      expect(log.client().filter((l) => /^EHLO /.test(l)), log.text()).toHaveLength(1);
    } finally {
      await smtp.close();
    }
    await removeCopies(paths);
  });
});
