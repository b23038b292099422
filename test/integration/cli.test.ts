import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { simpleParser } from "mailparser";
import { afterAll, describe, expect, it } from "vitest";
import { SmtpAuthError, SmtpConnectionError, SmtpIndeterminateError, SmtpValidationError } from "../../entries/node.ts";
import { exitCodeFor } from "../../cli/output.ts";
import { UsageError } from "../../cli/usage.ts";
import { credentialFor, nodeWith, PASSWORD, server, USER } from "./fixtures.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const dir = mkdtempSync(join(tmpdir(), "nina-smtp-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `content` (JSON unless a string) to a fresh temp file; returns its path. */
function file(content: unknown, ext = "json"): string {
  const path = join(dir, `f${++fileCount}.${ext}`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source in a subprocess (async: the test server lives in this process). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SMTP_")));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(root, "cli", "main.ts"), ...args],
      { cwd: root, env: { ...clean, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function expectNoPassword(run: Run, password = PASSWORD): void {
  expect(run.stdout).not.toContain(password);
  expect(run.stderr).not.toContain(password);
}

// Each run starts node with tsx (about a second, more on a busy machine).
const SLOW = { timeout: 90_000 };

const NODE = nodeWith({ to: ["ada@example.com"], subject: "CLI hello", body: "Hi Ada" });

describe("nina-smtp send", SLOW, () => {
  it("sends and prints what was sent (exit 0)", async () => {
    const s = await server();
    const run = await cli(["send", "--credential", file(credentialFor(s)), "--node", file(NODE), "--ca", file(s.caPem, "pem")]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Sent <[^>]+>/);
    expect(run.stdout).toContain("accepted:  ada@example.com");
    expect(run.stdout).toContain("rejected:  (none)");
    const [arrived] = await s.waitForMessages(1);
    expect(arrived!.parsed.subject).toBe("CLI hello");
    expect(arrived!.mailFrom).toBe(USER);
    expectNoPassword(run);
  });

  it("--json prints the result; --input and --extracted merge below the node", async () => {
    const s = await server();
    const run = await cli([
      "send", "--json",
      "--credential", file(credentialFor(s)),
      "--node", file(nodeWith({ to: ["ada@example.com"] })),
      "--extracted", file({ subject: "extracted subject", body: "extracted body" }),
      "--input", file({ subject: "input subject", body: "input body", cc: ["bob@example.com"] }),
      "--ca", file(s.caPem, "pem"),
    ]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ accepted: ["ada@example.com", "bob@example.com"], rejected: [], envelope: { from: USER } });
    expect(result.messageId).toMatch(/^<.+@example\.com>$/);
    const [arrived] = await s.waitForMessages(1);
    expect(arrived!.parsed.subject).toBe("extracted subject");
    expect(arrived!.parsed.text?.trim()).toBe("extracted body");
  });

  it("takes the credential from SMTP_* variables alone, and lets them fill missing file fields", async () => {
    const s = await server();
    const ca = file(s.caPem, "pem");
    const env = {
      SMTP_HOST: "127.0.0.1", SMTP_PORT: String(s.port), SMTP_ENCRYPTION: "starttls",
      SMTP_USERNAME: USER, SMTP_PASSWORD: PASSWORD, SMTP_AUTH_METHOD: "plain",
    };
    const envOnly = await cli(["send", "--node", file(NODE), "--ca", ca], env);
    expect(envOnly.code).toBe(0);
    expect(s.authAttempts.at(-1)).toMatchObject({ method: "PLAIN", success: true });

    const partial = file({ host: "127.0.0.1", port: s.port, username: USER });
    const filled = await cli(["send", "--credential", partial, "--node", file(NODE), "--ca", ca], { SMTP_PASSWORD: PASSWORD });
    expect(filled.code).toBe(0);

    // The file's fields win over the environment's.
    const full = file(credentialFor(s));
    const fileWins = await cli(["send", "--credential", full, "--node", file(NODE), "--ca", ca], { SMTP_PASSWORD: "wrong-from-env" });
    expect(fileWins.code).toBe(0);
    expect(s.messages).toHaveLength(3);
  });

  it("lists a refused recipient and still exits 0", async () => {
    const s = await server({ rejectRecipient: (a) => (a === "gone@example.com" ? { code: 550, message: "5.1.1 No such user" } : undefined) });
    const node = nodeWith({ to: ["ada@example.com", "gone@example.com"], subject: "s", body: "b" });
    const run = await cli(["send", "--credential", file(credentialFor(s)), "--node", file(node), "--ca", file(s.caPem, "pem")]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("rejected:  gone@example.com: 550 5.1.1 No such user (permanent)");
  });

  it("exits 3 on an authentication failure, printing code and hint but never the password", async () => {
    const s = await server();
    const wrong = "Cli-Wrong-Pw-5150";
    const args = ["send", "--credential", file(credentialFor(s, { password: wrong })), "--node", file(NODE), "--ca", file(s.caPem, "pem")];
    const human = await cli(args);
    expect(human.code).toBe(3);
    expect(human.stderr).toContain("Authentication failed");
    expect(human.stderr).toContain("code:      EAUTH");
    expect(human.stderr).toMatch(/hint: +Check the username and password/);
    expectNoPassword(human, wrong);

    const json = await cli([...args, "--json"]);
    expect(json.code).toBe(3);
    const { error } = JSON.parse(json.stdout);
    expect(error).toMatchObject({ code: "EAUTH", name: "SmtpAuthError", retryable: false, replyCode: 535 });
    expect(error.hint).toContain("app password");
    expectNoPassword(json, wrong);
  });

  it("exits 2 on bad input", async () => {
    const s = await server();
    const cred = file(credentialFor(s));
    const noSubject = await cli(["send", "--credential", cred, "--node", file(nodeWith({ to: ["a@example.com"], body: "b" }))]);
    expect(noSubject.code).toBe(2);
    expect(noSubject.stderr).toContain("Invalid subject: is required");
    expect(noSubject.stderr).toContain("EVALIDATION");

    const badPort = await cli(["send", "--credential", file(credentialFor(s, { port: "abc" })), "--node", file(NODE), "--json"]);
    expect(badPort.code).toBe(2);
    expect(JSON.parse(badPort.stdout).error).toMatchObject({ code: "EVALIDATION", field: "credential.port" });

    const badJson = await cli(["send", "--credential", file(`{"host": "x", "password": ${PASSWORD}}`), "--node", file(NODE)]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("not valid JSON");
    expectNoPassword(badJson);

    const usage = await Promise.all([
      cli(["send", "--credential", cred]), // no --node
      cli(["send", "--credential", cred, "--node", join(dir, "missing.json")]),
      cli(["frobnicate"]),
      cli([]),
      cli(["verify", "--node", file(NODE)]),
    ]);
    expect(usage.map((r) => r.code)).toEqual([2, 2, 2, 2, 2]);
    const noCredential = await cli(["send", "--node", file(NODE)]);
    expect(noCredential.code).toBe(2);
    expect(noCredential.stderr).toContain("SMTP_HOST");
    expect(s.sessions).toBe(0);
  });

  it("exits 4 for a transient failure and 5 for a permanent one", async () => {
    const s = await server({ rejectSender: () => ({ code: 553, message: "5.7.1 Not your address" }) });
    const refused = await cli(["send", "--credential", file(credentialFor(s)), "--node", file(NODE), "--ca", file(s.caPem, "pem")]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain("ESENDER");
    expect(refused.stderr).toContain("Send As");
    expect(refused.stderr).toContain("server:    553 5.7.1 Not your address");
    await s.close();
    const down = await cli(["send", "--credential", file(credentialFor(s)), "--node", file(NODE)]);
    expect(down.code).toBe(4);
    expect(down.stderr).toContain("ECONNREFUSED");
  });
});

describe("nina-smtp verify", SLOW, () => {
  it("reports the server (exit 0), as text and as JSON", async () => {
    const s = await server({ size: 2_000_000 });
    const args = ["verify", "--credential", file(credentialFor(s)), "--ca", file(s.caPem, "pem")];
    const human = await cli(args);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Credential valid: ${USER} on 127.0.0.1:${s.port} (starttls)`);
    expect(human.stdout).toMatch(/tls: +TLSv1\.[23]/);
    expect(human.stdout).toMatch(/auth: +login/);
    expect(human.stdout).toMatch(/size limit: 2000000 octets/);
    expectNoPassword(human);

    const json = await cli([...args, "--json"]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ valid: true, authenticated: true, authMethod: "login", sizeLimit: 2_000_000, username: USER });
    expect(report.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(Object.keys(report.extensions)).toContain("AUTH");
    expect(s.messages).toHaveLength(0);
  });

  it("exits 3 for a wrong password and 5 when STARTTLS is missing", async () => {
    const s = await server();
    const wrong = await cli(["verify", "--credential", file(credentialFor(s, { password: "Verify-Wrong-99" })), "--ca", file(s.caPem, "pem")]);
    expect(wrong.code).toBe(3);
    expectNoPassword(wrong, "Verify-Wrong-99");
    const plain = await server({ mode: "plain" });
    const noTls = await cli(["verify", "--credential", file(credentialFor(plain)), "--ca", file(plain.caPem, "pem")]);
    expect(noTls.code).toBe(5);
    expect(noTls.stderr).toContain("ESTARTTLS");
    expect(plain.authAttempts).toHaveLength(0);
  });
});

describe("nina-smtp preview", SLOW, () => {
  const example = (name: string): string => join(root, "examples", name);

  it("writes the composed .eml without connecting", async () => {
    const s = await server();
    const out = join(dir, "audit.eml");
    const run = await cli(["preview", "--node", example("03-audit-report-attachment.json"), "--credential", file(credentialFor(s)), "--out", out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Wrote ${out}`);
    expect(run.stdout).toContain("not sent");
    expect(s.sessions).toBe(0);
    const parsed = await simpleParser(readFileSync(out));
    expect(parsed.subject).toBe("Monthly Audit Report");
    expect(parsed.from?.text).toBe(USER);
    expect(parsed.attachments.map((a) => [a.filename, a.size])).toEqual([["audit-report-march-2025.csv", 73]]);
    expectNoPassword(run);
    expect(readFileSync(out, "latin1")).not.toContain(PASSWORD);
  });

  it("needs no credential when SMTP_USERNAME (or a from) gives the sender; Bcc stays out of the .eml", async () => {
    const run = await cli(["preview", "--node", example("04-incident-multiple-recipients.json"), "--json"], { SMTP_USERNAME: "alerts@nina.example" });
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc.envelope.to).toContain("ciso@example.com");
    expect(doc.eml).not.toContain("ciso@example.com");
    expect(doc.eml).toMatch(/^From: alerts@nina\.example\r$/m);
    expect(doc.size).toBe(Buffer.byteLength(doc.eml));

    const withFrom = await cli(["preview", "--node", file(nodeWith({ to: ["a@example.com"], subject: "s", body: "b", from: "me@example.com" }))]);
    expect(withFrom.code).toBe(0);
    expect(withFrom.stdout).toMatch(/^From: me@example\.com\r$/m);
  });

  it("exits 2 when nothing gives a sender, or the node is invalid", async () => {
    const noSender = await cli(["preview", "--node", example("01-plain-text-security-alert.json")]);
    expect(noSender.code).toBe(2);
    expect(noSender.stderr).toContain("from");
    const badNode = await cli(["preview", "--node", file({ resource: "email", operation: "delete", parameters: {} })]);
    expect(badNode.code).toBe(2);
    expect(badNode.stderr).toContain('unknown operation "delete"');
    expect(existsSync(join(dir, "never.eml"))).toBe(false);
  });
});

describe("nina-smtp --help and exit codes", SLOW, () => {
  it("prints usage and exits 0", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("nina-smtp send");
    expect(run.stdout).toContain("SMTP_AUTH_METHOD");
  });

  it("maps each error class to its exit code", () => {
    const phase = "connect" as const;
    expect(exitCodeFor(new UsageError("x"))).toBe(2);
    expect(exitCodeFor(new SmtpValidationError("to", "is required"))).toBe(2);
    expect(exitCodeFor(new SmtpAuthError("x", { code: "EAUTH", retryable: false, phase: "auth" }))).toBe(3);
    expect(exitCodeFor(new SmtpAuthError("x", { code: "EAUTH", retryable: true, phase: "auth" }))).toBe(4);
    expect(exitCodeFor(new SmtpConnectionError("x", { code: "ECONNREFUSED", retryable: true, phase }))).toBe(4);
    expect(exitCodeFor(new SmtpConnectionError("x", { code: "ENOTFOUND", retryable: false, phase }))).toBe(5);
    expect(exitCodeFor(new SmtpIndeterminateError("x", { code: "EINDETERMINATE", retryable: false, phase: "data" }))).toBe(6);
    expect(exitCodeFor(new Error("bug"))).toBe(1);
  });
});
