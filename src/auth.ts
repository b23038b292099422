/**
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195), XOAUTH2 and
 * OAUTHBEARER (RFC 7628), or the strongest of them the server offers. Secrets go on the
 * wire only here and are never logged: the transcript shows the verb and "[redacted]".
 *
 * @module
 */

import type { SmtpSession } from "./client.ts";
import { serviceUnavailable } from "./classify.ts";
import { SmtpAuthError, SmtpProtocolError, SmtpTimeoutError, isTransientReply, type SmtpError } from "./errors.ts";
import { isBearerToken, type ResolvedAuth, type TokenProvider } from "./options.ts";
import { replyInfo, type SmtpReply } from "./protocol/reply.ts";
import {
  OAUTH_ERROR_ACK,
  PASSWORD_MECHANISMS,
  TOKEN_MECHANISMS,
  base64Utf8,
  cramMd5Response,
  oauthBearerToken,
  parseOAuthError,
  plainToken,
  strongestOffered,
  xoauth2Token,
  type OAuthErrorChallenge,
} from "./protocol/sasl.ts";

type PasswordAuth = Extract<ResolvedAuth, { kind: "password" }>;
type TokenAuth = Extract<ResolvedAuth, { kind: "token" }>;

const REDACTED = "[redacted]";

// RFC 4954 §4 lets SASL responses run to 12288 octets; a longer AUTH line goes without the
// initial response, which then follows the server's empty 334 challenge.
const MAX_AUTH_LINE = 12_288;

/** Hints for a refused login, from the providers' own documentation. */
export const AUTH_FAILED_HINT: string =
  "Check the username and password. Office 365 and Gmail with MFA or 2-Step Verification need an app password; " +
  "AWS SES needs SMTP credentials from the SES console, not IAM access keys; " +
  'some servers accept only one mechanism, so try auth method "plain" instead of "login" or the reverse';

/** What every OAuth2 failure hint ends with: where the scope and the account usually go wrong. */
const OAUTH_SCOPE_HINT =
  "check that the token was issued for this username with the SMTP scope " +
  "(Gmail: https://mail.google.com/; Office 365: https://outlook.office.com/SMTP.Send, with SMTP AUTH enabled for the mailbox)";

function refused(mechanism: string, reply: SmtpReply, hint = AUTH_FAILED_HINT, detail = ""): SmtpAuthError {
  const info = replyInfo(reply);
  const transient = isTransientReply(reply.code);
  // 534 and 538 (RFC 4954 §6): the mechanism is too weak or needs encryption.
  return new SmtpAuthError(`Authentication failed: ${reply.code} ${info.message}${detail}`, {
    code: reply.code === 504 || reply.code === 534 ? "EAUTHMECH" : "EAUTH",
    retryable: transient, phase: "auth", command: `AUTH ${mechanism}`, reply: info,
    hint: reply.code === 538
      ? 'The server requires an encrypted connection for this mechanism; use encryption "starttls" or "tls"'
      : transient ? "The server could not check the credentials right now; try again later" : hint,
  });
}

/** Picks the mechanism: the one asked for, or with `"auto"` the strongest offered that fits the credential. */
function chooseMechanism(session: SmtpSession, auth: ResolvedAuth, offered: readonly string[]): string {
  const fitting = auth.kind === "token" ? TOKEN_MECHANISMS : PASSWORD_MECHANISMS;
  const best = strongestOffered(fitting, offered);
  const what = auth.kind === "token" ? "an OAuth2 access token" : "a password";
  if (auth.method === "auto") {
    if (best !== undefined) return best;
    throw session.fail(new SmtpAuthError(`Server offers no mechanism that works with ${what} (it offers ${offered.join(", ")})`, {
      code: "EAUTHMECH", retryable: false, phase: "auth",
      hint: auth.kind === "token"
        ? "OAuth2 needs XOAUTH2 or OAUTHBEARER; this server wants a password (or an app password)"
        : "This client can use CRAM-MD5, PLAIN or LOGIN with a password, XOAUTH2 or OAUTHBEARER with a token",
    }));
  }
  const mechanism = auth.method.toUpperCase();
  if (offered.includes(mechanism)) return mechanism;
  throw session.fail(new SmtpAuthError(`Server does not offer AUTH ${mechanism} (it offers ${offered.join(", ")})`, {
    code: "EAUTHMECH", retryable: false, phase: "auth",
    hint: best !== undefined
      ? `Set the auth method to "${best.toLowerCase()}", or "auto" to use the strongest one offered`
      : `No mechanism that works with ${what} is offered`,
  }));
}

/** Authenticates with the configured mechanism (or the best one offered); returns the mechanism used. */
export async function authenticate(session: SmtpSession, auth: ResolvedAuth): Promise<string> {
  const offered = session.capabilities.authMechanisms;
  if (offered.length === 0) {
    throw session.fail(new SmtpAuthError("Server does not offer authentication (no AUTH in its EHLO reply)", {
      code: "EAUTHMECH", retryable: false, phase: "auth",
      hint: session.secure
        ? "Check that this is the submission server for your account"
        : 'Many servers offer AUTH only after TLS; use encryption "starttls" or "tls"',
    }));
  }
  const mechanism = chooseMechanism(session, auth, offered);
  return auth.kind === "token"
    ? authenticateWithToken(session, auth, mechanism)
    : authenticateWithPassword(session, auth, mechanism);
}

/** Ends an exchange the server wants to continue past what the mechanism has to give (RFC 4954 §4). */
async function cancel(session: SmtpSession): Promise<void> {
  await session.command("*").catch(() => undefined);
}

async function authenticateWithPassword(session: SmtpSession, auth: PasswordAuth, mechanism: string): Promise<string> {
  const password = auth.password.reveal();
  session.addSecrets(password, base64Utf8(password), plainToken(auth.username, password), base64Utf8(`${auth.username}\0${password}`));
  let reply: SmtpReply;
  if (mechanism === "PLAIN") {
    // RFC 4954 §4: the initial response saves a round trip.
    reply = await session.command(`AUTH PLAIN ${plainToken(auth.username, password)}`, { logAs: `AUTH PLAIN ${REDACTED}` });
    if (reply.code === 334) {
      reply = await session.command(plainToken(auth.username, password), { logAs: REDACTED });
    }
  } else if (mechanism === "CRAM-MD5") {
    reply = await session.command("AUTH CRAM-MD5");
    if (reply.code === 334) {
      let response: string;
      try {
        response = cramMd5Response(auth.username, password, reply.lines.join(""));
      } catch {
        await cancel(session);
        throw session.fail(new SmtpProtocolError("Server sent a CRAM-MD5 challenge that is not base64", {
          code: "EPROTOCOL", retryable: false, phase: "auth", command: "AUTH CRAM-MD5",
        }));
      }
      session.addSecrets(response);
      reply = await session.command(response, { logAs: REDACTED });
    }
  } else {
    reply = await session.command("AUTH LOGIN");
    if (reply.code === 334) reply = await session.command(base64Utf8(auth.username), { logAs: REDACTED });
    if (reply.code === 334) reply = await session.command(base64Utf8(password), { logAs: REDACTED });
  }
  if (reply.code === 235) return mechanism;
  if (reply.code === 421) throw session.fail(serviceUnavailable(`AUTH ${mechanism}`, reply, "auth"));
  if (reply.code === 334) await cancel(session);
  const hint = mechanism === "CRAM-MD5"
    ? `${AUTH_FAILED_HINT}. A server can offer CRAM-MD5 yet be unable to check it for accounts whose passwords it stores hashed; then use "plain" over TLS`
    : AUTH_FAILED_HINT;
  throw session.fail(refused(mechanism, reply, hint));
}

/** One AUTH attempt with a bearer token: the final reply, and the OAuth error challenge if one came first. */
async function tokenExchange(
  session: SmtpSession,
  auth: TokenAuth,
  mechanism: string,
  token: string,
): Promise<{ reply: SmtpReply; challenge?: OAuthErrorChallenge }> {
  const { host, port } = session.options;
  const initial = mechanism === "XOAUTH2"
    ? xoauth2Token(auth.username, token)
    : oauthBearerToken(auth.username, token, { host, port });
  session.addSecrets(token, initial);
  const line = `AUTH ${mechanism} ${initial}`;
  let reply: SmtpReply;
  if (line.length + 2 <= MAX_AUTH_LINE) {
    reply = await session.command(line, { logAs: `AUTH ${mechanism} ${REDACTED}` });
  } else {
    reply = await session.command(`AUTH ${mechanism}`);
    if (reply.code === 334) reply = await session.command(initial, { logAs: REDACTED });
  }
  if (reply.code !== 334) return { reply };
  // A refused token draws a 334 whose text is a base64 JSON status (RFC 7628 §3.2.2, and
  // Google's XOAUTH2); the client answers so that the server can send the final failure.
  const challenge = parseOAuthError(reply.lines.join("")) ?? {};
  reply = await session.command(OAUTH_ERROR_ACK[mechanism as "XOAUTH2" | "OAUTHBEARER"]);
  return { reply, challenge };
}

/** True when the server's refusal means "this token is not (or no longer) good": a fresh one may pass. */
function tokenRejected(reply: SmtpReply, challenge: OAuthErrorChallenge | undefined): boolean {
  if (reply.code !== 535) return false;
  return challenge?.status === undefined || challenge.status === "401";
}

async function authenticateWithToken(session: SmtpSession, auth: TokenAuth, mechanism: string): Promise<string> {
  const provider = auth.tokenProvider;
  let refresh = false;
  for (;;) {
    const token = provider ? await obtainToken(session, auth, provider, refresh) : (auth.accessToken?.reveal() ?? "");
    const { reply, challenge } = await tokenExchange(session, auth, mechanism, token);
    if (reply.code === 235) return mechanism;
    if (reply.code === 421) throw session.fail(serviceUnavailable(`AUTH ${mechanism}`, reply, "auth"));
    if (reply.code === 334) {
      await cancel(session);
      throw session.fail(refused(mechanism, reply, `The server did not accept the OAuth2 exchange; ${OAUTH_SCOPE_HINT}`));
    }
    const expired = tokenRejected(reply, challenge);
    // Once per connection: a provider's fresh token, on the same connection (RFC 4954 lets
    // AUTH follow a failed AUTH).
    if (provider && !refresh && expired && session.usable) {
      refresh = true;
      continue;
    }
    throw session.fail(refused(mechanism, reply, tokenHint(challenge, provider !== undefined, expired),
      challenge?.status ? ` (OAuth2 status ${challenge.status})` : ""));
  }
}

function tokenHint(challenge: OAuthErrorChallenge | undefined, hasProvider: boolean, expired: boolean): string {
  if (challenge?.status === "403") {
    return `The token lacks a scope the server needs${challenge.scope ? ` (it names ${challenge.scope})` : ""}; ${OAUTH_SCOPE_HINT}`;
  }
  if (expired && !hasProvider) {
    return "The access token was refused; it has probably expired (they usually last about an hour). " +
      `Get a fresh token, or give auth.tokenProvider so that the client refreshes it when the server refuses it; also ${OAUTH_SCOPE_HINT}`;
  }
  if (expired) return `The server refused a freshly issued token too; ${OAUTH_SCOPE_HINT}`;
  return `The server refused the OAuth2 token; ${OAUTH_SCOPE_HINT}`;
}

/** A short description of what a token provider threw; the thrown object itself is not kept. */
function describe(thrown: unknown): string {
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  const line = text.split(/\r?\n/, 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * Asks the provider for a token, bounded by the command timeout, and gives up as soon as
 * the session fails (an abort, say). The provider's own error is described in the message
 * but not attached as `cause`: an HTTP client's error may carry a refresh token or client
 * secret in its request.
 */
async function obtainToken(session: SmtpSession, auth: TokenAuth, provider: TokenProvider, refresh: boolean): Promise<string> {
  const limit = session.options.timeouts.command;
  const context = { username: auth.username, host: session.options.host, refresh };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let poll: ReturnType<typeof setInterval> | undefined;
  let token: unknown;
  try {
    token = await new Promise<unknown>((resolve, reject) => {
      timer = setTimeout(() => {
        reject(new SmtpTimeoutError(`Timed out after ${limit} ms waiting for the OAuth2 token provider`, {
          code: "ETIMEDOUT", retryable: true, phase: "auth",
        }));
      }, limit);
      // The session has no public "failed" promise; a light poll notices an abort promptly.
      poll = setInterval(() => {
        if (session.failure) reject(session.failure);
      }, 50);
      Promise.resolve()
        .then(() => provider(context))
        .then(resolve, (thrown: unknown) => {
          reject(new SmtpAuthError(`The OAuth2 token provider failed: ${describe(thrown)}`, {
            code: "EAUTH", retryable: false, phase: "auth",
            hint: refresh
              ? "The server refused the previous token and getting a fresh one failed; check the OAuth2 client's refresh token and consent"
              : "The token provider must return an OAuth2 access token for the account; check its OAuth2 client settings",
          }));
        });
    });
  } catch (error) {
    throw session.fail(error as SmtpError);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
  if (typeof token !== "string" || token === "") {
    throw session.fail(new SmtpAuthError("The OAuth2 token provider returned no access token (expected a non-empty string)", {
      code: "EAUTH", retryable: false, phase: "auth",
    }));
  }
  session.addSecrets(token);
  if (!isBearerToken(token)) {
    throw session.fail(new SmtpAuthError("The OAuth2 token provider returned a malformed access token (it has spaces or control characters)", {
      code: "EAUTH", retryable: false, phase: "auth",
    }));
  }
  return token;
}
