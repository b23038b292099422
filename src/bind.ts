/**
 * Binds a connector to the public functions, for the per-runtime package entries.
 *
 * @module
 */

import { executeSmtpNode, type SmtpNodeContext, type SmtpNodeRuntime, type SmtpSendResult } from "./integration/operation.ts";
import { validateCredential, type CredentialReport, type ValidateRuntime } from "./integration/validate.ts";
import type { TransportOptions } from "./options.ts";
import type { Connector } from "./socket.ts";
import { createTransport, type Transport } from "./transport.ts";

/** The public functions with the connector already chosen (it can still be overridden). */
export interface BoundApi {
  /** {@link createTransport} without the connector argument. */
  createTransport(options: TransportOptions): Transport;
  /** {@link executeSmtpNode} without the connector argument. */
  executeSmtpNode(node: unknown, context: SmtpNodeContext, runtime?: Partial<SmtpNodeRuntime>): Promise<SmtpSendResult>;
  /** {@link validateCredential} without the connector argument. */
  validateCredential(credential: unknown, runtime?: Partial<ValidateRuntime>): Promise<CredentialReport>;
}

/** Returns the public functions bound to `connector`. */
export function bindConnector(connector: Connector): BoundApi {
  return {
    createTransport: (options) => createTransport({ ...options, connector: options?.connector ?? connector }),
    executeSmtpNode: (node, context, runtime = {}) => executeSmtpNode(node, context, { ...runtime, connector: runtime.connector ?? connector }),
    validateCredential: (credential, runtime = {}) => validateCredential(credential, { ...runtime, connector: runtime.connector ?? connector }),
  };
}
