/**
 * Parameter merging (integration guide, "Parameter Merging"): for each parameter, the
 * node's value wins over the extracted one, which wins over the input data's.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";
import { isPlainObject, ownValue } from "./plain-object.ts";

/** The send operation's parameter names, in the guide's order. */
export const SEND_PARAMETERS: readonly string[] = Object.freeze([
  "to", "subject", "body", "contentType", "from", "cc", "bcc", "replyTo", "importance", "attachments",
]);

/** Where a merged parameter came from. */
export type ParameterSource = "node" | "extracted" | "input";

/** Merged parameters and the source of each. */
export interface MergedParameters {
  /** Parameter name → value (only parameters some source gave). */
  values: Record<string, unknown>;
  /** Parameter name → the source that won. */
  sources: Record<string, ParameterSource>;
}

function checkSource(value: unknown, field: string): void {
  if (value !== undefined && value !== null && !isPlainObject(value)) {
    throw new SmtpValidationError(field, "must be an object");
  }
}

/**
 * Merges the three sources. Only own properties of plain objects are read; `null` and
 * `undefined` count as absent. Unknown keys in node parameters are an error (a typo would
 * otherwise be silently ignored); extra keys in extracted parameters and input data are
 * ignored, as upstream data carries much more than mail fields.
 */
export function mergeParameters(node: unknown, extracted?: unknown, input?: unknown): MergedParameters {
  checkSource(node, "parameters");
  checkSource(extracted, "extractedParameters");
  checkSource(input, "inputData");
  if (isPlainObject(node)) {
    for (const key of Object.keys(node)) {
      if (!SEND_PARAMETERS.includes(key)) {
        throw new SmtpValidationError(`parameters.${key}`, "is not a parameter of email/send");
      }
    }
  }
  const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const sources: Record<string, ParameterSource> = Object.create(null) as Record<string, ParameterSource>;
  const layers: [ParameterSource, unknown][] = [["node", node], ["extracted", extracted], ["input", input]];
  for (const name of SEND_PARAMETERS) {
    for (const [source, layer] of layers) {
      const value = ownValue(layer, name);
      if (value === undefined || value === null) continue;
      values[name] = value;
      sources[name] = source;
      break;
    }
  }
  return { values, sources };
}
