/**
 * What a conformance case receives: the connector under test, the servers the Node side
 * started for this runtime, and a client for the Node side's control endpoint.
 *
 * @module
 */

import type { Connector } from "../../src/socket.ts";

/** Ports of the servers started for one runtime, all on 127.0.0.1. */
export interface ServerPorts {
  /** Raw scripted server: plaintext, offers STARTTLS (CA-signed leaf). */
  rawStarttls: number;
  /** Raw scripted server: implicit TLS (CA-signed leaf). */
  rawImplicit: number;
  /** Raw: STARTTLS whose 220 carries injected plaintext in the same write. */
  rawInject: number;
  /** Raw: STARTTLS with a self-signed leaf. */
  untrustedStarttls: number;
  /** Raw: implicit TLS with a self-signed leaf. */
  untrustedImplicit: number;
  /** Raw: STARTTLS with a CA-signed leaf for `wrong.example` only. */
  wrongNameStarttls: number;
  /** Raw: implicit TLS with a CA-signed leaf for `wrong.example` only. */
  wrongNameImplicit: number;
  /** Raw: greets, then never answers. */
  stall: number;
  /** Raw: accepts an envelope, then stops reading after the 354. */
  slowData: number;
  /** Raw: accepts and never sends a byte (a TLS handshake that hangs). */
  silent: number;
  /** Nothing listens here. */
  refused: number;
  /** smtp-server: STARTTLS, AUTH PLAIN/LOGIN after TLS. */
  smtpStarttls: number;
  /** smtp-server: implicit TLS, AUTH PLAIN/LOGIN. */
  smtpImplicit: number;
  /**
   * smtp-server: STARTTLS, AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER (in that order)
   * after TLS; checks the CRAM-MD5 HMAC and the static `user.accessToken`; keeps the raw
   * bytes of small messages for `/verify-dkim`.
   */
  smtpAuth: number;
}

/** The JSON the Node side passes to each runtime. */
export interface ConformanceConfig {
  /** Always `127.0.0.1`. */
  hostname: string;
  /** Name to verify: `localhost` where the runtime allows a servername, else the host. */
  servername: string;
  /** The test CA that signed the good leaves. */
  caPem: string;
  /** Base URL of the control endpoint. */
  controlUrl: string;
  /** Server ports. */
  ports: ServerPorts;
  /** Credentials the smtp-servers accept; `accessToken` only on `smtpAuth` (XOAUTH2, OAUTHBEARER). */
  user: { username: string; password: string; accessToken: string };
  /** Run only cases whose name contains one of these. */
  only?: string[];
}

/** What the Node side recorded for one message. */
export interface CapturedMessage {
  messageId: string;
  subject: string;
  size: number;
  sha256: string;
  envelope: { from: string; to: string[] };
  user?: string;
  attachments: Array<{ filename: string; size: number; sha256: string }>;
}

/** An AUTH attempt seen by the smtp-server. */
export interface AuthAttempt {
  method: string;
  username: string;
  ok: boolean;
  /** The bearer token given (XOAUTH2 and OAUTHBEARER only). */
  accessToken?: string;
  /** The `host` the client reported (OAUTHBEARER only). */
  host?: string;
  /** The `port` the client reported (OAUTHBEARER only). */
  port?: string;
}

/** What `/verify-dkim` needs besides the message: the public key, published by a test resolver. */
export interface DkimKeyRecord {
  /** `d=`. */
  domain: string;
  /** `s=`. */
  selector: string;
  /** `k=` of the TXT record. */
  keyType: "rsa" | "ed25519";
  /** `p=`: base64 of the SPKI DER (RSA) or of the raw 32-byte key (Ed25519, RFC 8463 §4.2). */
  publicKey: string;
}

/** mailauth's verdict on each DKIM-Signature of a message. */
export interface DkimVerdict {
  /** The TXT look-ups mailauth made, `"TXT <name>"`. */
  lookups: string[];
  results: Array<{
    /** "pass", "fail", "neutral", "policy", … */
    result: string;
    /** Why, when not a pass. */
    comment?: string;
    signingDomain?: string;
    selector?: string;
    /** `a=`. */
    algo?: string;
    /** `c=`. */
    format?: string;
  }>;
}

/** Client of the Node side's control endpoint (plain HTTP on 127.0.0.1). */
export class Control {
  constructor(private readonly baseUrl: string) {}

  /** GETs a JSON document; `undefined` on 404. */
  async get<T>(path: string): Promise<T | undefined> {
    const res = await fetch(`${this.baseUrl}${path}`);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** The message captured under a Message-ID (with or without brackets) or subject. */
  async fetchCaptured(id: string): Promise<CapturedMessage | undefined> {
    return this.get<CapturedMessage>(`/captured/${encodeURIComponent(id.replace(/^<|>$/g, ""))}`);
  }

  /**
   * Has mailauth verify the DKIM signatures of a message: one the server captured (`id`:
   * its Message-ID or subject; raw bytes are kept for messages under 1 MiB) or one given
   * as bytes (`raw`).
   */
  async verifyDkim(message: { id: string } | { raw: Uint8Array }, key: DkimKeyRecord): Promise<DkimVerdict> {
    const body = "id" in message ? { ...key, id: message.id } : { ...key, raw: base64(message.raw) };
    const res = await fetch(`${this.baseUrl}/verify-dkim`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`control /verify-dkim: HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as DkimVerdict;
  }

  /** Every AUTH attempt so far. */
  async authAttempts(): Promise<AuthAttempt[]> {
    return (await this.get<AuthAttempt[]>("/auth")) ?? [];
  }

  /** Open and total connection counts of each raw server. */
  async conns(): Promise<Record<string, { open: number; total: number }>> {
    return (await this.get<Record<string, { open: number; total: number }>>("/conns")) ?? {};
  }

  /** Counters of server-side events, e.g. `slowData.dataStarted`. */
  async events(): Promise<Record<string, number>> {
    return (await this.get<Record<string, number>>("/events")) ?? {};
  }

  /** Polls until `check` returns true or `ms` pass; returns the last verdict. */
  async waitFor(check: () => Promise<boolean>, ms: number, stepMs = 25): Promise<boolean> {
    const end = Date.now() + ms;
    for (;;) {
      if (await check()) return true;
      if (Date.now() >= end) return false;
      await sleep(stepMs);
    }
  }
}

/** What every case gets. */
export interface Ctx {
  /** The runtime's short name: node, bun, deno, cloudflare. */
  runtime: string;
  /** The connector under test. */
  connector: Connector;
  /** Servers and names. */
  config: ConformanceConfig;
  /** Control endpoint client. */
  control: Control;
  /** TLS parameters for the good servers: the servername, plus the CA where the runtime takes one. */
  tls(): { servername: string; ca?: string[] };
  /** Records an observation for this case (shown with `--verbose`). */
  note(text: string): void;
  /** Notes recorded by the running case. */
  notes: string[];
}

/** One conformance case. */
export interface Case {
  /** Unique, stable name. */
  name: string;
  /** Bound for this case (default 10 s). */
  timeoutMs?: number;
  /** Only meaningful on these runtimes (the others do not run or count it). */
  runtimes?: string[];
  run(ctx: Ctx): Promise<void>;
}

/** Base64 of bytes, Web APIs only. */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Promise-based sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Builds the context for a connector. */
export function makeContext(runtime: string, connector: Connector, config: ConformanceConfig): Ctx {
  const notes: string[] = [];
  return {
    runtime,
    connector,
    config,
    notes,
    note(text) {
      notes.push(text);
    },
    control: new Control(config.controlUrl),
    tls() {
      return connector.capabilities.perSocketCa
        ? { servername: config.servername, ca: [config.caPem] }
        : { servername: config.servername };
    },
  };
}
