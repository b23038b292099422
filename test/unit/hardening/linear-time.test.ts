// Address and header handling must stay linear: ten times the input may cost about ten
// times the time, never a hundred. Ratios of medians, not absolute times, so a slow or
// busy machine does not matter; the bound (25×) sits far below quadratic growth (100×).
import { describe, expect, it } from "vitest";
import { SmtpValidationError } from "../../../src/errors.ts";
import { parseAddress } from "../../../src/mime/address.ts";
import { composeMessage } from "../../../src/mime/compose.ts";
import { ReplyReader } from "../../../src/protocol/reply-reader.ts";

function median(work: () => void, repeat: number, rounds = 7): number {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    for (let r = 0; r < repeat; r++) work();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

/** Time at 10n over time at n; the small case is repeated until it takes a few ms, so noise stays small. */
function growth(make: (n: number) => () => void, n: number): number {
  const small = make(n);
  const large = make(n * 10);
  small();
  large(); // warm up the JIT
  let repeat = 1;
  while (median(small, repeat, 3) < 3 && repeat < 4096) repeat *= 2;
  return median(large, repeat) / median(small, repeat);
}

const attempt = (fn: () => unknown) => (): void => {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof SmtpValidationError)) throw error;
  }
};

describe("linear time on hostile input", () => {
  it.each([
    ["a display name of quotes and backslashes", (n: number) => `"${'\\"'.repeat(n)}" <a@example.com>`],
    ["an unterminated quoted name", (n: number) => `"${"a\\".repeat(n)} <a@example.com>`],
    ["a run of angle brackets", (n: number) => `${"<".repeat(n)}a@example.com${">".repeat(n)}`],
    ["a comma-separated list in one element", (n: number) => "a@example.com,".repeat(n)],
    ["dots and at-signs", (n: number) => `${"a.".repeat(n)}@${"b@".repeat(n)}`],
  ])("parseAddress: %s", (_name, input) => {
    const ratio = growth((n) => {
      const text = input(n);
      return attempt(() => parseAddress(text, "to"));
    }, 2000);
    expect(ratio).toBeLessThan(25);
  });

  it.each([
    ["a long non-ASCII subject", (n: number) => "Grüße 日本 ".repeat(n)],
    ["a subject of encoded-word look-alikes", (n: number) => "=?utf-8?B?QUJD?= ".repeat(n)],
    ["a subject without spaces", (n: number) => "x".repeat(n * 10)],
  ])("composing headers: %s", (_name, subject) => {
    const ratio = growth((n) => {
      const text = subject(n);
      return attempt(() => [...composeMessage({ from: "a@example.com", to: "b@example.com", subject: text, text: "t" }).chunks()]);
    }, 500);
    expect(ratio).toBeLessThan(25);
  });

  it("a long multi-line reply delivered a few bytes at a time", () => {
    const ratio = growth((n) => {
      const bytes = new TextEncoder().encode("250-line\r\n".repeat(n) + "250 end\r\n");
      return () => {
        const reader = new ReplyReader({ maxLineLength: 100, maxLines: 100_000 });
        for (let i = 0; i < bytes.length; i += 7) {
          reader.push(bytes.subarray(i, i + 7));
          while (reader.next());
        }
      };
    }, 500);
    expect(ratio).toBeLessThan(25);
  });
});
