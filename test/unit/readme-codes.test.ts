// The README's troubleshooting table must list every error code the library can produce.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

it("every SmtpErrorCode has a row in the README's troubleshooting table", () => {
  const errors = readFileSync(join(root, "src/errors.ts"), "utf8");
  const union = /export type SmtpErrorCode =([^;]+);/.exec(errors)?.[1] ?? "";
  const codes = [...union.matchAll(/"([A-Z0-9]+)"/g)].map((m) => m[1]!);
  expect(codes.length).toBeGreaterThan(15);
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("## Troubleshooting"));
  const listed = new Set([...table.matchAll(/^\| `([A-Z0-9]+)`(?: \/ `([A-Z0-9]+)`)? \|/gm)].flatMap((m) => [m[1], m[2]].filter(Boolean)));
  expect(codes.filter((code) => !listed.has(code))).toEqual([]);
});
