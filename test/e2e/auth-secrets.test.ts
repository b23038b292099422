// An OAuth2 access token is redacted like a password: never in the transcript, an error
// (message, stack, cause chain, JSON, inspected form), an inspected transport or report,
// not as itself and not as the base64 forms that go on the wire, even when a server
// echoes it back.
import type { Socket } from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { createTransport, SmtpError, type Transport, type TransportOptions, type TranscriptLine } from "../../entries/node.ts";
import { startRawServer, startTestServer, type RawServer, type TestServer } from "../helpers/smtp-server.ts";

const USER = "user@example.com";
const CANARY = "ya29.Canary-Token_4711.never-print-me";
const SECOND = "ya29.Second-Canary_0815.never-print-me";

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");

/** Every shape a token could take on its way out, for the host and port dialled. */
function forbidden(host: string, port: number): { label: string; text: string }[] {
  return [CANARY, SECOND].flatMap((token) => [
    { label: "the token", text: token },
    { label: "a distinctive piece of the token", text: token.slice(5, 20) },
    { label: "base64 of the token", text: b64(token) },
    { label: "the XOAUTH2 payload", text: b64(`user=${USER}\x01auth=Bearer ${token}\x01\x01`) },
    { label: "the OAUTHBEARER payload", text: b64(`n,a=${USER},\x01host=${host}\x01port=${port}\x01auth=Bearer ${token}\x01\x01`) },
  ]);
}

function errorViews(error: unknown): [string, string][] {
  const views: [string, string][] = [
    ["JSON.stringify(error)", JSON.stringify(error) ?? ""],
    ["inspect(error)", inspect(error, { depth: 10, showHidden: true })],
    ["String(error)", String(error)],
  ];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 10; depth++) {
    views.push([`error.cause×${depth}.message`, current.message], [`error.cause×${depth}.stack`, current.stack ?? ""]);
    for (const [key, value] of Object.entries(current)) if (typeof value === "string") views.push([`error.cause×${depth}.${key}`, value]);
    current = (current as { cause?: unknown }).cause;
  }
  return views;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

interface Run {
  smtp: Transport;
  log: TranscriptLine[];
}

function run(port: number, auth: TransportOptions["auth"], extra: Partial<TransportOptions>): Run {
  const log: TranscriptLine[] = [];
  const smtp = createTransport({ host: "localhost", port, auth, logger: (line) => log.push(line), ...extra });
  cleanups.push(() => smtp.close());
  return { smtp, log };
}

function leaks(port: number, { smtp, log }: Run, ...extra: unknown[]): string[] {
  const views: [string, string][] = [
    ...log.map((l, i): [string, string] => [`logger line ${i}`, l.line]),
    ["inspect(transport)", inspect(smtp, { depth: 10, showHidden: true })],
    ["JSON.stringify(transport)", JSON.stringify(smtp) ?? ""],
  ];
  for (const value of extra) {
    if (value instanceof Error) views.push(...errorViews(value));
    else views.push(["JSON.stringify(result)", JSON.stringify(value) ?? ""], ["inspect(result)", inspect(value, { depth: 10 })]);
  }
  const forms = forbidden("localhost", port);
  return views.flatMap(([where, text]) => forms.filter((f) => text.includes(f.text)).map((f) => `${where} contains ${f.label}`));
}

async function realServer(tokens: Record<string, string>): Promise<TestServer> {
  const s = await startTestServer({ authMethods: ["XOAUTH2", "OAUTHBEARER"], tokens });
  cleanups.push(() => s.close());
  return s;
}

describe.each(["xoauth2", "oauthbearer"] as const)("%s against smtp-server", (method) => {
  it("a successful login and send", async () => {
    const s = await realServer({ [USER]: CANARY });
    const r = run(s.port, { username: USER, method, accessToken: CANARY }, { ca: s.caPem });
    const report = await r.smtp.verify();
    const receipt = await r.smtp.send({ to: "ada@example.com", subject: "s", text: "t" });
    expect(s.authAttempts.every((a) => a.accessToken === CANARY && a.success)).toBe(true);
    expect(leaks(s.port, r, report, receipt)).toEqual([]);
  });

  it("a refused static token", async () => {
    const s = await realServer({ [USER]: "the-right-one" });
    const r = run(s.port, { username: USER, method, accessToken: CANARY }, { ca: s.caPem });
    const error = await r.smtp.verify().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpError);
    expect(leaks(s.port, r, error)).toEqual([]);
  });

  it("a provider whose both tokens are refused", async () => {
    const s = await realServer({ [USER]: "the-right-one" });
    const r = run(s.port, { username: USER, method, tokenProvider: ({ refresh }) => (refresh ? SECOND : CANARY) }, { ca: s.caPem });
    const error = await r.smtp.verify().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: "EAUTH" });
    expect(s.authAttempts.map((a) => a.accessToken)).toEqual([CANARY, SECOND]);
    expect(leaks(s.port, r, error)).toEqual([]);
  });
});

describe("a server that echoes the token back", () => {
  async function echoingServer(): Promise<RawServer> {
    const s = await startRawServer((socket: Socket) => {
      socket.write("220 echo.test ESMTP\r\n");
      let buffered = "";
      socket.on("data", (chunk: Buffer) => {
        buffered += chunk.toString("latin1");
        let end: number;
        while ((end = buffered.indexOf("\r\n")) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (/^EHLO /i.test(line)) socket.write("250-echo.test\r\n250 AUTH XOAUTH2 OAUTHBEARER\r\n");
          else if (/^AUTH /i.test(line)) {
            const payload = line.split(" ")[2] ?? "";
            const decoded = Buffer.from(payload, "base64").toString("latin1").replace(/[\x00-\x1f]/g, "|");
            socket.write(`535-5.7.8 You sent ${payload}\r\n535 5.7.8 which says ${decoded}\r\n`);
          } else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
          else socket.write("502 5.5.2 what\r\n");
        }
      });
    });
    cleanups.push(() => s.close());
    return s;
  }

  it.each(["xoauth2", "oauthbearer"] as const)("%s: the echo is redacted in the error and the transcript", async (method) => {
    const s = await echoingServer();
    const r = run(s.port, { username: USER, method, accessToken: CANARY }, { encryption: "none" });
    const error = await r.smtp.verify().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: "EAUTH", replyCode: 535 });
    expect((error as SmtpError).serverMessage).toContain("[redacted]");
    expect(leaks(s.port, r, error)).toEqual([]);
  });
});
