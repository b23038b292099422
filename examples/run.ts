/**
 * The main job (`npm start`): runs the integration guide's four example nodes through
 * `executeSmtpNode`.
 *
 * - Without `SMTP_HOST`: against a demo smtp-server started on 127.0.0.1 for this run
 *   (STARTTLS with a test CA made for the run, AUTH required, a demo credential), then
 *   prints what arrived, as parsed by mailparser.
 * - With `SMTP_HOST` (and the other `SMTP_*` variables): against that server, printing
 *   the send results. The recipients are still the examples' addresses.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { executeSmtpNode, parseCredential, type SmtpSendResult } from "../entries/node.ts";
import { credentialFromEnv } from "../cli/inputs.ts";
import { exitCodeFor, formatError, formatSendResult } from "../cli/output.ts";
import { startTestServer } from "../test/helpers/smtp-server.ts";
import { describeDelivered } from "./describe.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** The guide's four examples, in its order. */
const EXAMPLES: readonly [string, string][] = [
  ["01-plain-text-security-alert.json", "Plain text security alert"],
  ["02-html-weekly-report.json", "HTML weekly report with cc and importance high"],
  ["03-audit-report-attachment.json", "Monthly audit report with a base64 CSV attachment"],
  ["04-incident-multiple-recipients.json", "Multiple recipients with cc, bcc, replyTo, importance high"],
];

const DEMO_CREDENTIAL = {
  host: "127.0.0.1",
  encryption: "starttls",
  username: "alerts@nina.example",
  password: "demo-password-for-this-run",
  authMethod: "login",
} as const;

/** Indents every non-empty line by two spaces. */
function indent(text: string): string {
  return text.replace(/^(?=.)/gm, "  ");
}

function loadNode(file: string): unknown {
  return JSON.parse(readFileSync(join(here, file), "utf8"));
}

function title(i: number, file: string, label: string): string {
  return `\n[${i + 1}/${EXAMPLES.length}] ${label} (${relative(process.cwd(), join(here, file))})`;
}

function sentLine(result: SmtpSendResult): string {
  const rejected = result.rejected.map((r) => `${r.address} (${r.code}${r.enhancedCode ? ` ${r.enhancedCode}` : ""})`);
  return `  sent:        ${result.messageId}\n` +
    `  accepted:    ${result.accepted.join(", ")}\n` +
    `  rejected:    ${rejected.length > 0 ? rejected.join(", ") : "none"}\n` +
    `  server:      ${result.response}`;
}

async function runDemo(): Promise<number> {
  const server = await startTestServer({
    mode: "starttls",
    users: { [DEMO_CREDENTIAL.username]: DEMO_CREDENTIAL.password },
    authMethods: ["PLAIN", "LOGIN"],
  });
  let failures = 0;
  try {
    const credential = { ...DEMO_CREDENTIAL, port: server.port };
    console.log(`Demo SMTP server (smtp-server) listening on ${server.host}:${server.port}`);
    console.log("  STARTTLS with a test CA generated for this run; AUTH required (LOGIN, PLAIN)");
    console.log(`  credential: ${credential.username} on ${credential.host}:${credential.port}, encryption starttls, auth method login`);
    console.log("  no \"from\" in the examples: the sender defaults to the credential's username");
    for (const [i, [file, label]] of EXAMPLES.entries()) {
      console.log(title(i, file, label));
      try {
        const result = await executeSmtpNode(loadNode(file), { credential }, { ca: server.caPem, timeout: 30_000 });
        console.log(sentLine(result));
        const [delivered] = (await server.waitForMessages(i + 1)).slice(i);
        if (!delivered) throw new Error("the message did not arrive");
        console.log("  arrived (parsed by mailparser):");
        console.log(describeDelivered(delivered).join("\n"));
      } catch (error) {
        failures++;
        process.stdout.write(indent(formatError(error)));
      }
    }
  } finally {
    await server.close();
  }
  console.log(`\n${EXAMPLES.length - failures} of ${EXAMPLES.length} examples delivered.`);
  return failures === 0 ? 0 : 1;
}

async function runAgainst(env: NodeJS.ProcessEnv): Promise<number> {
  const credential = credentialFromEnv(env);
  try {
    parseCredential(credential);
  } catch (error) {
    process.stdout.write("The SMTP_* variables do not make a valid credential:\n" + indent(formatError(error)));
    return exitCodeFor(error);
  }
  console.log(`Sending the ${EXAMPLES.length} examples through ${credential.host}${credential.port ? `:${credential.port}` : ""} (SMTP_HOST is set)`);
  console.log("  the recipients are the examples' own (example.com) addresses");
  let worst = 0;
  for (const [i, [file, label]] of EXAMPLES.entries()) {
    console.log(title(i, file, label));
    try {
      const result = await executeSmtpNode(loadNode(file), { credential }, { timeout: 60_000 });
      process.stdout.write(indent(formatSendResult(result)));
    } catch (error) {
      worst = Math.max(worst, exitCodeFor(error));
      process.stdout.write(indent(formatError(error)));
      if (exitCodeFor(error) === 3) {
        console.log("\nStopping: authentication failed, the other examples would fail the same way.");
        break;
      }
    }
  }
  return worst;
}

const env = process.env;
const job = env.SMTP_HOST ? runAgainst(env) : runDemo();
job.then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`The main job failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
