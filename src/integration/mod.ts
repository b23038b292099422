/**
 * The NINA SMTP integration: the "SMTP" credential, parameter merging and the
 * `email` / `send` operation. The package entries bind the runtime's connector.
 *
 * @module
 */

export {
  CREDENTIAL_DEFAULTS,
  parseCredential,
  type CredentialAuthMethod,
  type ResolvedCredential,
  type SmtpCredential,
} from "./credential.ts";
export { mergeParameters, SEND_PARAMETERS, type MergedParameters, type ParameterSource } from "./merge.ts";
export {
  checkOperation,
  executeSmtpNode,
  messageFromParameters,
  prepareSend,
  type SmtpNode,
  type SmtpNodeContext,
  type SmtpNodeRuntime,
  type SmtpSendResult,
} from "./operation.ts";
export { validateCredential, type CredentialReport, type ValidateRuntime } from "./validate.ts";
