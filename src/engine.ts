/**
 * What a transport needs once it sends: the composer, the DKIM signer, the session pool
 * and the SMTP dialogue. Loaded by {@link loadEngine} on the first `send()`, `verify()` or
 * `buildMessage()`, so that importing the package stays cheap (a cold start in an edge
 * function imports it every time, often without sending).
 *
 * @module
 */

import { SmtpSession } from "./client.ts";
import { DkimSigner } from "./dkim/sign.ts";
import type { DkimOptions } from "./dkim/options.ts";
import type { ComposedMessage, MailMessage } from "./message.ts";
import { prepareMessage } from "./mime/build.ts";
import type { AuthMethod, ResolvedOptions } from "./options.ts";
import { SessionPool } from "./pool.ts";
import type { Connector } from "./socket.ts";
import { sendTransaction, type SendProgress, type SendReceipt } from "./transaction.ts";
import type { VerifyReport } from "./transport.ts";

export { buildMessage } from "./mime/build.ts";

/** The working half of a transport: composes, signs, pools sessions and sends. */
export class TransportEngine {
  readonly #options: ResolvedOptions;
  readonly #connector: Connector;
  readonly #pool: SessionPool;
  readonly #dkim: DkimSigner | undefined;

  /** @param dkim options already validated by `createTransport` */
  constructor(options: ResolvedOptions, connector: Connector, dkim: DkimOptions | undefined) {
    this.#options = options;
    this.#connector = connector;
    this.#pool = new SessionPool(options, connector);
    this.#dkim = dkim === undefined ? undefined : new DkimSigner(dkim);
  }

  /** Composes (and signs) the message; bad input fails here, before any connection. */
  prepare(message: MailMessage): ComposedMessage | Promise<ComposedMessage> {
    const defaults = this.#options.auth ? { defaultFrom: this.#options.auth.username } : {};
    return prepareMessage(message, defaults, this.#dkim);
  }

  /** Sends a composed message over a pooled session. */
  async send(
    composed: ComposedMessage,
    signal: AbortSignal | undefined,
    onProgress?: (progress: SendProgress) => void,
  ): Promise<SendReceipt> {
    const lease = await this.#pool.acquire(signal);
    try {
      const endWithQuit = (): Uint8Array | undefined => this.#pool.quitWithLastWrite(lease);
      return await lease.session.run(signal, () => sendTransaction(lease.session, composed, onProgress, endWithQuit));
    } finally {
      this.#pool.release(lease);
    }
  }

  /** Opens a session of its own (not pooled), reports what the server offers, quits. */
  async verify(signal: AbortSignal | undefined): Promise<VerifyReport> {
    let session: SmtpSession | undefined;
    try {
      session = await SmtpSession.open(this.#options, this.#connector, signal);
      return reportOf(this.#options, session);
    } finally {
      await session?.quit();
    }
  }

  /** Closes the pooled sessions (QUIT). */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

function reportOf(options: ResolvedOptions, session: SmtpSession): VerifyReport {
  const caps = session.capabilities;
  const report: VerifyReport = {
    host: options.host,
    port: options.port,
    encryption: options.encryption,
    secure: session.secure,
    serverName: caps.serverName,
    greeting: session.greeting,
    authenticated: session.authMechanism !== undefined,
    authMechanisms: [...caps.authMechanisms],
    extensions: caps.toJSON(),
  };
  const tls = session.tlsInfo;
  if (tls) report.tls = tls;
  if (session.authMechanism) report.authMethod = session.authMechanism.toLowerCase() as AuthMethod;
  if (caps.sizeLimit !== undefined) report.sizeLimit = caps.sizeLimit;
  return report;
}
