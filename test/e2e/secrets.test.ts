// A canary password must never surface anywhere a user can see it: not in an error (its
// message, stack, cause chain, JSON or inspected form), not in the transcript logger, not
// in an inspected transport, report or resolved credential. Not as itself, and not as any
// of the base64 forms that go on the wire (the PLAIN token, the LOGIN password line).
import { inspect } from "node:util";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createTransport,
  executeSmtpNode,
  parseCredential,
  SmtpError,
  validateCredential,
  type AuthMethod,
  type Transport,
  type TransportOptions,
  type TranscriptLine,
} from "../../entries/node.ts";
import { resolveOptions } from "../../src/options.ts";
import { getTestCerts } from "../helpers/certs.ts";
import {
  startMisbehavingServer,
  type MisbehavingServer,
  type MisbehavingServerOptions,
} from "../helpers/misbehaving-server.ts";

const USER = "user@example.com";
const CANARY = "Canary-\u00fc-Pa55!";
const SERVER_PASSWORD = "the-right-one";
const FAST = { connect: 300, greeting: 300, command: 300, data: 300, close: 300 };

const b64 = (text: string, encoding: "utf8" | "latin1" = "utf8"): string => Buffer.from(text, encoding).toString("base64");

/** Every shape the secret could take on its way out. */
const FORBIDDEN: { label: string; text: string }[] = [
  { label: "the password", text: CANARY },
  { label: "a distinctive piece of the password", text: "Pa55!" },
  { label: "the password JSON-escaped", text: "Canary-\\u00fc-Pa55!" },
  { label: "base64 of the password (UTF-8), as sent by LOGIN", text: b64(CANARY) },
  { label: "base64 of the password (Latin-1)", text: b64(CANARY, "latin1") },
  { label: "base64 of the PLAIN token (UTF-8)", text: b64(`\0${USER}\0${CANARY}`) },
  { label: "base64 of the PLAIN token (Latin-1)", text: b64(`\0${USER}\0${CANARY}`, "latin1") },
];

/** Which forbidden forms `text` contains, labelled with where it came from. */
function leaksIn(where: string, text: string): string[] {
  return FORBIDDEN.filter((f) => text.includes(f.text)).map((f) => `${where} contains ${f.label}`);
}

/** Every view of an error a user or a log pipeline could get. */
function errorViews(error: unknown): [string, string][] {
  const views: [string, string][] = [
    ["JSON.stringify(error)", JSON.stringify(error) ?? ""],
    ["inspect(error)", inspect(error, { depth: 10 })],
    ["inspect(error, showHidden)", inspect(error, { depth: 10, showHidden: true })],
    ["String(error)", String(error)],
  ];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    const at = depth === 0 ? "error" : `error${".cause".repeat(depth)}`;
    if (current instanceof Error) {
      views.push([`${at}.message`, current.message], [`${at}.stack`, current.stack ?? ""]);
      for (const [key, value] of Object.entries(current)) {
        if (typeof value === "string") views.push([`${at}.${key}`, value]);
      }
      current = (current as { cause?: unknown }).cause;
    } else {
      views.push([at, typeof current === "string" ? current : inspect(current, { depth: 10 })]);
      break;
    }
  }
  return views;
}

function errorLeaks(error: unknown): string[] {
  return errorViews(error).flatMap(([where, text]) => leaksIn(where, text));
}

let servers: MisbehavingServer[] = [];
let transports: Transport[] = [];

beforeAll(() => {
  getTestCerts();
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: MisbehavingServerOptions = {}): Promise<MisbehavingServer> {
  const server = await startMisbehavingServer({ username: USER, password: SERVER_PASSWORD, ...options });
  servers.push(server);
  return server;
}

interface Run {
  transport: Transport;
  log: TranscriptLine[];
}

function run(server: MisbehavingServer, method: AuthMethod, extra: Partial<TransportOptions> = {}): Run {
  const log: TranscriptLine[] = [];
  const transport = createTransport({
    host: server.host,
    port: server.port,
    encryption: "none",
    auth: { username: USER, password: CANARY, method },
    timeouts: FAST,
    logger: (line) => log.push(line),
    ...extra,
  });
  transports.push(transport);
  return { transport, log };
}

async function failure(promise: Promise<unknown>): Promise<SmtpError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmtpError);
  return error as SmtpError;
}

/** Checks the error, the transcript and the transport; returns every leak found. */
function everythingLeaks(error: unknown, { transport, log }: Run): string[] {
  return [
    ...errorLeaks(error),
    ...log.flatMap((l, i) => leaksIn(`logger line ${i} (${l.direction})`, l.line)),
    ...leaksIn("inspect(transport)", inspect(transport, { depth: 10, showHidden: true })),
    ...leaksIn("JSON.stringify(transport)", JSON.stringify(transport) ?? ""),
  ];
}

const MESSAGE = { from: USER, to: "rcpt@example.com", subject: "s", text: "t" };

describe("a refused login", () => {
  for (const method of ["plain", "login"] as const) {
    it(`AUTH ${method.toUpperCase()} with a wrong password, in plaintext`, async () => {
      const server = await serve();
      const r = run(server, method);
      const error = await failure(r.transport.send(MESSAGE));
      expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth", command: `AUTH ${method.toUpperCase()}` });
      // The password did reach the server (this is what is being hidden), and the logger saw the exchange.
      expect(server.auths).toEqual([expect.objectContaining({ mechanism: method.toUpperCase(), success: false })]);
      expect(r.log.some((l) => l.direction === "client" && l.line.startsWith(`AUTH ${method.toUpperCase()}`))).toBe(true);
      expect(everythingLeaks(error, r)).toEqual([]);
    }, 1500);

    it(`AUTH ${method.toUpperCase()} with a wrong password, over STARTTLS`, async () => {
      const server = await serve({ starttls: true });
      const r = run(server, method, { encryption: "starttls", ca: server.caPem });
      const error = await failure(r.transport.verify());
      expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth" });
      expect(server.auths).toEqual([expect.objectContaining({ success: false, encrypted: true })]);
      expect(everythingLeaks(error, r)).toEqual([]);
    }, 1500);

    it(`AUTH ${method.toUpperCase()} against a server that repeats the credentials in its 535`, async () => {
      // A hostile or sloppy server: its reply text carries the token and the password back.
      const server = await serve({ behaviour: "echo-credentials" });
      const r = run(server, method);
      const error = await failure(r.transport.send(MESSAGE));
      expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth", replyCode: 535 });
      expect(everythingLeaks(error, r)).toEqual([]);
    }, 1500);
  }
});

describe("a successful login", () => {
  for (const method of ["plain", "login"] as const) {
    it(`AUTH ${method.toUpperCase()} that works: transcript, transport and report stay clean`, async () => {
      const server = await serve({ starttls: true, password: CANARY });
      const r = run(server, method, { encryption: "starttls", ca: server.caPem });
      const report = await r.transport.verify();
      expect(report).toMatchObject({ authenticated: true, authMethod: method, secure: true });
      expect(server.auths).toEqual([expect.objectContaining({ success: true, encrypted: true })]);
      const receipt = await r.transport.send(MESSAGE);
      expect(receipt.accepted).toEqual(["rcpt@example.com"]);
      expect([
        ...everythingLeaks(undefined, r),
        ...leaksIn("inspect(report)", inspect(report, { depth: 10, showHidden: true })),
        ...leaksIn("JSON.stringify(report)", JSON.stringify(report)),
        ...leaksIn("inspect(receipt)", inspect(receipt, { depth: 10, showHidden: true })),
      ]).toEqual([]);
    }, 1500);
  }
});

describe("TLS failures with credentials configured", () => {
  it("an untrusted certificate (no ca given): ECERT", async () => {
    const server = await serve({ starttls: true });
    const r = run(server, "plain", { encryption: "starttls" });
    const error = await failure(r.transport.verify());
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ECERT", phase: "tls" });
    expect(error.cause).toBeDefined(); // the runtime's error is kept, and checked too
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);

  it("garbage instead of a ServerHello: ETLS", async () => {
    const server = await serve({ starttls: true, behaviour: "tls-handshake-garbage" });
    const r = run(server, "login", { encryption: "starttls", ca: server.caPem });
    const error = await failure(r.transport.send(MESSAGE));
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ETLS", phase: "tls" });
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);
});

describe("timeouts while the credentials are in flight", () => {
  it("AUTH PLAIN never answered: ETIMEDOUT in the auth phase", async () => {
    const server = await serve({ behaviour: "silent", at: "auth" });
    const r = run(server, "plain");
    const error = await failure(r.transport.send(MESSAGE));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "auth" });
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);

  it("AUTH LOGIN answered half-way after the password: ETIMEDOUT in the auth phase", async () => {
    const server = await serve({ behaviour: "stall-mid-reply", at: "auth" });
    const r = run(server, "login");
    const error = await failure(r.transport.send(MESSAGE));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "auth" });
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);

  it("the send's overall timeout during AUTH: ETIMEDOUT", async () => {
    const server = await serve({ behaviour: "silent", at: "auth" });
    const r = run(server, "plain", { timeouts: { ...FAST, command: 5000 } });
    const error = await failure(r.transport.send(MESSAGE, { timeout: 200 }));
    expect(error).toMatchObject({ name: "SmtpTimeoutError", code: "ETIMEDOUT", phase: "auth" });
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);

  it("a malformed reply to AUTH: EPROTOCOL", async () => {
    const server = await serve({ behaviour: "garbage", at: "auth" });
    const r = run(server, "login");
    const error = await failure(r.transport.send(MESSAGE));
    expect(error).toMatchObject({ name: "SmtpProtocolError", code: "EPROTOCOL", phase: "auth" });
    expect(everythingLeaks(error, r)).toEqual([]);
  }, 1500);
});

describe("the credential objects", () => {
  const credential = { host: "127.0.0.1", port: 2525, encryption: "none", username: USER, password: CANARY, authMethod: "plain" };

  it("the resolved credential and the resolved transport options hide the password", () => {
    const { credential: resolved } = parseCredential(credential);
    const options = resolveOptions({ host: "127.0.0.1", auth: { username: USER, password: CANARY } });
    expect(options.auth?.kind).toBe("password");
    expect([
      ...leaksIn("JSON.stringify(resolved credential)", JSON.stringify(resolved)),
      ...leaksIn("inspect(resolved credential)", inspect(resolved, { depth: 10, showHidden: true })),
      ...leaksIn("JSON.stringify(resolved options)", JSON.stringify(options)),
      ...leaksIn("inspect(resolved options)", inspect(options, { depth: 10, showHidden: true })),
      ...leaksIn("String(password holder)", String(options.auth?.kind === "password" ? options.auth.password : "")),
    ]).toEqual([]);
  });

  it("the whole parseCredential() result hides the password too", () => {
    // parseCredential is public; its result is what a caller would log when debugging a
    // credential. The transport options inside it carry the password as a plain string.
    const parsed = parseCredential(credential);
    expect([
      ...leaksIn("JSON.stringify(parseCredential())", JSON.stringify(parsed)),
      ...leaksIn("inspect(parseCredential())", inspect(parsed, { depth: 10 })),
    ]).toEqual([]);
  });

  it("a validation error about another field says nothing of the password", async () => {
    const error = await failure(validateCredential({ ...credential, port: "not a port" }));
    expect(error).toMatchObject({ name: "SmtpValidationError", code: "EVALIDATION", field: "credential.port" });
    expect(errorLeaks(error)).toEqual([]);
  });
});

describe("the integration layer", () => {
  const credentialFor = (server: MisbehavingServer, authMethod: AuthMethod) => ({
    host: server.host, port: server.port, encryption: "none", username: USER, password: CANARY, authMethod,
  });
  const node = { resource: "email", operation: "send", parameters: { to: "rcpt@example.com", subject: "s", body: "b" } };

  for (const method of ["plain", "login"] as const) {
    it(`validateCredential with a wrong ${method.toUpperCase()} password: EAUTH, clean error`, async () => {
      const server = await serve();
      const error = await failure(validateCredential(credentialFor(server, method), { timeout: 1000 }));
      expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth" });
      expect(errorLeaks(error)).toEqual([]);
      expect(await server.waitForAllClosed(500)).toBe(true);
    }, 1500);

    it(`executeSmtpNode with a wrong ${method.toUpperCase()} password: EAUTH, clean error`, async () => {
      const server = await serve();
      const error = await failure(executeSmtpNode(node, { credential: credentialFor(server, method) }, { timeout: 1000 }));
      expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth" });
      expect(errorLeaks(error)).toEqual([]);
      expect(server.messages).toEqual([]);
      expect(await server.waitForAllClosed(500)).toBe(true);
    }, 1500);
  }

  it("validateCredential against a server that echoes the credentials: clean error", async () => {
    const server = await serve({ behaviour: "echo-credentials" });
    const error = await failure(validateCredential(credentialFor(server, "plain"), { timeout: 1000 }));
    expect(error).toMatchObject({ name: "SmtpAuthError", code: "EAUTH", phase: "auth" });
    expect(errorLeaks(error)).toEqual([]);
  }, 1500);

  it("validateCredential over STARTTLS with an untrusted certificate: ECERT, clean error", async () => {
    const server = await serve({ starttls: true });
    const error = await failure(validateCredential({ ...credentialFor(server, "login"), encryption: "starttls" }, { timeout: 1000 }));
    expect(error).toMatchObject({ name: "SmtpTlsError", code: "ECERT", phase: "tls" });
    expect(errorLeaks(error)).toEqual([]);
  }, 1500);

  it("a valid credential: the report is clean", async () => {
    const server = await serve({ starttls: true, password: CANARY });
    const report = await validateCredential({ ...credentialFor(server, "plain"), encryption: "starttls" }, { ca: server.caPem, timeout: 1000 });
    expect(report).toMatchObject({ valid: true, authenticated: true, secure: true });
    expect([
      ...leaksIn("JSON.stringify(report)", JSON.stringify(report)),
      ...leaksIn("inspect(report)", inspect(report, { depth: 10, showHidden: true })),
    ]).toEqual([]);
  }, 1500);
});
