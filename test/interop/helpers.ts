// Shared plumbing for the interop tests: where the rig is (interop.env), credentials for
// each port, finding our own messages in the shared Maildir, and a loopback TCP proxy that
// records what the client really put on the wire.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { open, readdir, readFile, rm } from "node:fs/promises";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import type { TranscriptLine } from "../../entries/node.ts";

export const DEFAULT_ENV_FILE = "/tmp/nina-interop/interop.env";

/** What postfix-up.sh wrote into interop.env. */
export interface InteropEnv {
  host: string;
  servername: string;
  ports: { submission: number; smtps: number; plain: number };
  user: string;
  password: string;
  caFile: string;
  ca: string;
  maildir: string;
  sizeLimit: number;
  postfixLog: string;
}

/** Undoes the shell quoting postfix-up.sh uses: 'text', with ' written as '\''. */
export function shellUnquote(raw: string): string {
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const ch = raw[i] as string;
    if (ch === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unterminated quote in ${JSON.stringify(raw)}`);
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (ch === "\\" && i + 1 < raw.length) {
      out += raw[i + 1];
      i += 2;
    } else {
      out += ch;
      i += 1;
    }
  }
  return out;
}

/** KEY=value pairs of an env file; comments and blank lines skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) values[m[1] as string] = shellUnquote((m[2] as string).trim());
  }
  return values;
}

let cached: InteropEnv | undefined;

/** Reads the rig's env file (NINA_INTEROP_ENV, else /tmp/nina-interop/interop.env). */
export function interopEnv(): InteropEnv {
  if (cached) return cached;
  const file = process.env.NINA_INTEROP_ENV || DEFAULT_ENV_FILE;
  if (!existsSync(file)) {
    throw new Error(`interop env file ${file} not found: run "bash test/interop/postfix-up.sh" first`);
  }
  const v = parseEnvFile(readFileSync(file, "utf8"));
  const need = (key: string): string => {
    const value = v[key];
    if (value === undefined || value === "") throw new Error(`${file} has no ${key}`);
    return value;
  };
  const caFile = need("INTEROP_CA_FILE");
  cached = {
    host: need("INTEROP_HOST"),
    servername: v.INTEROP_TLS_SERVERNAME || "localhost",
    ports: {
      submission: Number(need("INTEROP_SUBMISSION_PORT")),
      smtps: Number(need("INTEROP_SMTPS_PORT")),
      plain: Number(need("INTEROP_PLAIN_PORT")),
    },
    user: need("INTEROP_USER"),
    password: need("INTEROP_PASSWORD"),
    caFile,
    ca: readFileSync(caFile, "utf8"),
    maildir: need("INTEROP_MAILDIR"),
    sizeLimit: Number(need("INTEROP_SIZE_LIMIT")),
    postfixLog: v.INTEROP_POSTFIX_LOG || "",
  };
  return cached;
}

export type Encryption = "starttls" | "tls" | "none";
export type AuthMethod = "login" | "plain";

/** One way of reaching the rig that must work. */
export interface Mode {
  label: string;
  port: number;
  encryption: Encryption;
}

/** The three ports with the encryption each expects. */
export function modes(): Mode[] {
  const { ports } = interopEnv();
  return [
    { label: "submission", port: ports.submission, encryption: "starttls" },
    { label: "smtps", port: ports.smtps, encryption: "tls" },
    { label: "plain", port: ports.plain, encryption: "none" },
  ];
}

/** The NINA credential for a port (host "localhost", as the certificate names it). */
export function credential(
  port: number,
  encryption: Encryption,
  authMethod: AuthMethod,
  password: string = interopEnv().password,
): { host: string; port: number; encryption: Encryption; username: string; password: string; authMethod: AuthMethod } {
  return { host: "localhost", port, encryption, username: interopEnv().user, password, authMethod };
}

/** A short random tag that makes subjects, addresses and Message-IDs ours. */
export function uniqueTag(): string {
  return `${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;
}

/** A transcript collector for createTransport's `logger` option. */
export function transcript(): { logger: (line: TranscriptLine) => void; lines: TranscriptLine[]; client(): string[]; text(): string } {
  const lines: TranscriptLine[] = [];
  return {
    lines,
    logger: (line) => lines.push(line),
    client: () => lines.filter((l) => l.direction === "client").map((l) => l.line),
    text: () => lines.map((l) => `${l.direction === "client" ? "C:" : "S:"} ${l.line}`).join("\n"),
  };
}

// ---------------------------------------------------------------------------------------
// The Maildir

/** Maildir file path → its Message-ID (null: none found). Shared by all polls of one worker. */
const messageIds = new Map<string, string | null>();

const HEAD_BYTES = 64 * 1024;

/** The header block of a message file, unfolded, or what fits in the first 64 KiB. */
async function readHead(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, "r");
    const buffer = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEAD_BYTES, 0);
    const text = buffer.subarray(0, bytesRead).toString("latin1");
    const end = text.search(/\r?\n\r?\n/);
    return end === -1 ? text : text.slice(0, end);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined; // another test cleaned up its own
    throw error;
  } finally {
    await handle?.close();
  }
}

function messageIdOf(head: string): string | null {
  const m = /^message-id:[ \t]*((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head);
  return m ? (m[1] as string).replace(/\s+/g, "") : null;
}

async function scanMaildir(): Promise<void> {
  const { maildir } = interopEnv();
  for (const sub of ["new", "cur"]) {
    let names: string[];
    try {
      names = await readdir(join(maildir, sub));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (const name of names) {
      const path = join(maildir, sub, name);
      if (messageIds.has(path)) continue;
      const head = await readHead(path);
      if (head !== undefined) messageIds.set(path, messageIdOf(head));
    }
  }
}

/**
 * Waits until `count` copies of the message with this Message-ID are in the Maildir (one
 * per recipient), then a little longer to catch extra copies. Throws after `timeoutMs`.
 */
export async function waitForCopies(messageId: string, count: number, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  const found = (): string[] => [...messageIds].filter(([, id]) => id === messageId).map(([path]) => path).sort();
  for (;;) {
    await scanMaildir();
    if (found().length >= count) break;
    if (Date.now() > deadline) {
      throw new Error(`only ${found().length} of ${count} copies of ${messageId} arrived in ${timeoutMs} ms (see ${interopEnv().postfixLog})`);
    }
    await sleep(100);
  }
  await sleep(300); // a duplicate delivery would show up now
  await scanMaildir();
  return found();
}

/** Deletes our own delivered copies (the Maildir is shared and kept across runs). */
export async function removeCopies(paths: string[]): Promise<void> {
  await Promise.all(paths.map(async (path) => {
    await rm(path, { force: true });
    messageIds.delete(path);
  }));
}

/** A delivered file split into its header block (unfolded text) and its raw body bytes. */
export async function readCopy(path: string): Promise<{ raw: Buffer; headerText: string; body: Buffer; header(name: string): string[] }> {
  const raw = await readFile(path);
  let split = raw.indexOf("\n\n");
  let gap = 2;
  const crlf = raw.indexOf("\r\n\r\n");
  if (crlf !== -1 && (split === -1 || crlf < split)) {
    split = crlf;
    gap = 4;
  }
  if (split === -1) throw new Error(`${path} has no header/body separator`);
  const headerText = raw.subarray(0, split).toString("utf8").replace(/\r?\n(?=[ \t])/g, "");
  const lines = headerText.split(/\r?\n/);
  return {
    raw,
    headerText,
    body: raw.subarray(split + gap),
    header(name: string): string[] {
      const prefix = `${name.toLowerCase()}:`;
      return lines.filter((l) => l.toLowerCase().startsWith(prefix)).map((l) => l.slice(prefix.length).trim());
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------
// A recording proxy: what the client sent, seen from outside the library

export interface RecordingProxy {
  port: number;
  /** Every byte clients sent through the proxy, as latin1 text. */
  clientBytes(): string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (random port) and forwards every connection to 127.0.0.1:`targetPort`. */
export async function startRecordingProxy(targetPort: number): Promise<RecordingProxy> {
  const host = interopEnv().host;
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host, port: targetPort });
    sockets.add(client).add(upstream);
    client.on("data", (chunk: Buffer) => chunks.push(Buffer.from(chunk)));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("proxy has no port");
  return {
    port: address.port,
    clientBytes: () => Buffer.concat(chunks).toString("latin1"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
