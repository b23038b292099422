/**
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN. Secrets go on the wire only here
 * and are never logged: the transcript shows the verb and "[redacted]".
 *
 * @module
 */

import type { SmtpSession } from "./client.ts";
import { serviceUnavailable } from "./classify.ts";
import { SmtpAuthError, isTransientReply } from "./errors.ts";
import type { ResolvedOptions } from "./options.ts";
import { replyInfo, type SmtpReply } from "./protocol/reply.ts";
import { base64Utf8, plainToken } from "./protocol/sasl.ts";

type Credentials = NonNullable<ResolvedOptions["auth"]>;

const REDACTED = "[redacted]";

/** Hints for a refused login, from the providers' own documentation. */
export const AUTH_FAILED_HINT: string =
  "Check the username and password. Office 365 and Gmail with MFA or 2-Step Verification need an app password; " +
  "AWS SES needs SMTP credentials from the SES console, not IAM access keys; " +
  'some servers accept only one mechanism, so try auth method "plain" instead of "login" or the reverse';

function refused(mechanism: string, reply: SmtpReply): SmtpAuthError {
  const info = replyInfo(reply);
  const transient = isTransientReply(reply.code);
  // 534 and 538 (RFC 4954 §6): the mechanism is too weak or needs encryption.
  const hint = reply.code === 538
    ? 'The server requires an encrypted connection for this mechanism; use encryption "starttls" or "tls"'
    : transient ? "The server could not check the credentials right now; try again later" : AUTH_FAILED_HINT;
  return new SmtpAuthError(`Authentication failed: ${reply.code} ${info.message}`, {
    code: reply.code === 504 || reply.code === 534 ? "EAUTHMECH" : "EAUTH",
    retryable: transient, phase: "auth", command: `AUTH ${mechanism}`, reply: info, hint,
  });
}

/** Authenticates with the configured mechanism; returns the mechanism used. */
export async function authenticate(session: SmtpSession, auth: Credentials): Promise<string> {
  const offered = session.capabilities.authMechanisms;
  const mechanism = auth.method.toUpperCase();
  if (offered.length === 0) {
    throw session.fail(new SmtpAuthError("Server does not offer authentication (no AUTH in its EHLO reply)", {
      code: "EAUTHMECH", retryable: false, phase: "auth",
      hint: session.secure
        ? "Check that this is the submission server for your account"
        : 'Many servers offer AUTH only after TLS; use encryption "starttls" or "tls"',
    }));
  }
  if (!offered.includes(mechanism)) {
    const other = offered.filter((m) => m === "PLAIN" || m === "LOGIN");
    throw session.fail(new SmtpAuthError(`Server does not offer AUTH ${mechanism} (it offers ${offered.join(", ")})`, {
      code: "EAUTHMECH", retryable: false, phase: "auth",
      hint: other.length > 0 ? `Set the auth method to "${other[0]!.toLowerCase()}"` : "No supported mechanism is offered",
    }));
  }
  const password = auth.password.reveal();
  session.addSecrets(password, base64Utf8(password), plainToken(auth.username, password), base64Utf8(`${auth.username}\0${password}`));
  let reply: SmtpReply;
  if (mechanism === "PLAIN") {
    // RFC 4954 §4: the initial response saves a round trip.
    reply = await session.command(`AUTH PLAIN ${plainToken(auth.username, password)}`, { logAs: `AUTH PLAIN ${REDACTED}` });
    if (reply.code === 334) {
      reply = await session.command(plainToken(auth.username, password), { logAs: REDACTED });
    }
  } else {
    reply = await session.command("AUTH LOGIN");
    if (reply.code === 334) reply = await session.command(base64Utf8(auth.username), { logAs: REDACTED });
    if (reply.code === 334) reply = await session.command(base64Utf8(password), { logAs: REDACTED });
  }
  if (reply.code === 235) return mechanism;
  if (reply.code === 421) throw session.fail(serviceUnavailable(`AUTH ${mechanism}`, reply, "auth"));
  if (reply.code === 334) {
    // The server wants more than this mechanism has to give: cancel the exchange (RFC 4954 §4).
    await session.command("*").catch(() => undefined);
  }
  throw session.fail(refused(mechanism, reply));
}
