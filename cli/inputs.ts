/**
 * Reading the CLI's inputs: JSON files, PEM files and the credential (file plus
 * `SMTP_*` environment variables). Failures become {@link UsageError}s that never quote
 * the credential file's content.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { UsageError } from "./usage.ts";

/** Credential field → the environment variable that can supply it. */
export const CREDENTIAL_ENV: Readonly<Record<string, string>> = Object.freeze({
  host: "SMTP_HOST",
  port: "SMTP_PORT",
  encryption: "SMTP_ENCRYPTION",
  username: "SMTP_USERNAME",
  password: "SMTP_PASSWORD",
  authMethod: "SMTP_AUTH_METHOD",
  accessToken: "SMTP_ACCESS_TOKEN",
});

type Env = Readonly<Record<string, string | undefined>>;

function readText(path: string, label: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`Cannot read ${label} file ${JSON.stringify(path)}${code ? ` (${code})` : ""}`);
  }
}

/**
 * Reads and parses a JSON file. With `secret`, a syntax error reports only the position:
 * V8's message quotes the text around the error, which could be the password.
 */
export function readJsonFile(path: string, label: string, secret = false): unknown {
  const text = readText(path, label);
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const detail = secret ? (/position \d+/.exec(message)?.[0] ?? "syntax error") : message;
    throw new UsageError(`The ${label} file ${JSON.stringify(path)} is not valid JSON (${detail})`);
  }
}

/** Reads a PEM file (for `--ca`). */
export function readPemFile(path: string): string {
  const text = readText(path, "--ca");
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`The --ca file ${JSON.stringify(path)} holds no PEM certificate`);
  }
  return text;
}

/** The credential fields given by non-empty `SMTP_*` environment variables. */
export function credentialFromEnv(env: Env): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [field, name] of Object.entries(CREDENTIAL_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== "") fields[field] = value;
  }
  return fields;
}

function given(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

/**
 * The credential: the file's fields, with the environment filling the fields the file
 * does not give. Undefined when neither a file nor any variable is given. A file that
 * is not a JSON object is returned unchanged, for `parseCredential` to reject.
 */
export function loadCredential(path: string | undefined, env: Env): unknown {
  const fromEnv = credentialFromEnv(env);
  if (path === undefined) return Object.keys(fromEnv).length > 0 ? fromEnv : undefined;
  const file = readJsonFile(path, "credential", true);
  if (file === null || typeof file !== "object" || Array.isArray(file)) return file;
  // A null prototype: a "__proto__" key stays an own (and rejected) field.
  const merged = Object.assign(Object.create(null) as Record<string, unknown>, fromEnv);
  for (const [key, value] of Object.entries(file)) {
    if (given(value) || !Object.hasOwn(fromEnv, key)) merged[key] = value;
  }
  return merged;
}
