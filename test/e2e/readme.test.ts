// The README's example must run: extract it, point it at a local server, run it.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../helpers/smtp-server.ts";

const root = resolve(import.meta.dirname, "../..");
let server: TestServer | undefined;
afterAll(async () => server?.close());

function readmeExample(): string {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Send a message"));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error("README has no ts example under 'Send a message'");
  return match[1]!;
}

it("the README's send example runs and the message arrives", async () => {
  server = await startTestServer({ users: { "alerts@example.com": "readme-pass" } });
  const code = readmeExample().replace(`from "@nina/smtp"`, `from ${JSON.stringify(join(root, "entries/node.ts"))}`);
  expect(code.split("\n").length).toBeLessThanOrEqual(14);
  mkdirSync(join(root, ".tmp"), { recursive: true });
  const file = join(root, ".tmp", "readme-example.ts");
  writeFileSync(file, code);
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file], {
    cwd: root,
    env: {
      ...process.env,
      SMTP_HOST: "localhost",
      SMTP_PORT: String(server.port),
      SMTP_USERNAME: "alerts@example.com",
      SMTP_PASSWORD: "readme-pass",
      SMTP_CA: server.caPem,
    },
  });
  const [message] = await server.waitForMessages(1);
  expect(message!.parsed.subject).toBe("Hello");
  expect(message!.rcptTo).toEqual(["ada@example.com"]);
  expect(stdout).toContain(message!.parsed.messageId!);
});
