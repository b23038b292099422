/**
 * Content-Type guessed from a file name's extension, and validation of a caller's own
 * Content-Type.
 *
 * @module
 */

import { SmtpValidationError } from "../errors.ts";

/** The fallback for unknown extensions (RFC 2046 §4.5.1). */
export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

const TYPES: Readonly<Record<string, string>> = {
  // text
  txt: "text/plain", text: "text/plain", log: "text/plain", md: "text/markdown",
  csv: "text/csv", tsv: "text/tab-separated-values", htm: "text/html", html: "text/html",
  css: "text/css", ics: "text/calendar", vcf: "text/vcard", xml: "application/xml",
  js: "text/javascript", mjs: "text/javascript", rtf: "application/rtf",
  // data and documents
  json: "application/json", yaml: "application/yaml", yml: "application/yaml",
  pdf: "application/pdf", msg: "application/vnd.ms-outlook",
  // Not message/rfc822: attachments go base64, which RFC 2045 §6.4 forbids for message/*.
  eml: "application/octet-stream",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odt: "application/vnd.oasis.opendocument.text",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
  odp: "application/vnd.oasis.opendocument.presentation",
  epub: "application/epub+zip",
  // archives
  zip: "application/zip", gz: "application/gzip", tgz: "application/gzip",
  tar: "application/x-tar", "7z": "application/x-7z-compressed", rar: "application/vnd.rar",
  bz2: "application/x-bzip2",
  // images
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif",
  webp: "image/webp", svg: "image/svg+xml", bmp: "image/bmp", ico: "image/vnd.microsoft.icon",
  tif: "image/tiff", tiff: "image/tiff", heic: "image/heic", avif: "image/avif",
  // audio and video
  mp3: "audio/mpeg", wav: "audio/wav", ogg: "audio/ogg", m4a: "audio/mp4", flac: "audio/flac",
  mp4: "video/mp4", mov: "video/quicktime", webm: "video/webm", avi: "video/x-msvideo",
  mkv: "video/x-matroska",
  // security tooling output and keys
  pem: "application/x-pem-file", crt: "application/x-x509-ca-cert", cer: "application/pkix-cert",
  p12: "application/x-pkcs12", pcap: "application/vnd.tcpdump.pcap", sql: "application/sql",
  wasm: "application/wasm", exe: "application/octet-stream", bin: "application/octet-stream",
};

/**
 * The Content-Type for a file name, from its extension (case-insensitive);
 * `application/octet-stream` when unknown or absent.
 */
export function contentTypeFor(filename: string): string {
  const dot = filename.lastIndexOf(".");
  if (dot < 0 || dot === filename.length - 1) return DEFAULT_CONTENT_TYPE;
  const ext = filename.slice(dot + 1).toLowerCase();
  return Object.hasOwn(TYPES, ext) ? TYPES[ext]! : DEFAULT_CONTENT_TYPE;
}

// RFC 2045 §5.1 token: printable ASCII except space and tspecials.
const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;

/**
 * Checks a caller's Content-Type: `type/subtype` of RFC 2045 tokens, without parameters
 * (the composer adds `name=` itself). Multipart and message types are refused: an
 * attachment is sent base64-encoded, which RFC 2045 §6.4 forbids for composite types.
 *
 * @returns the type in lower case
 * @throws {SmtpValidationError} with code `EATTACHMENT`
 */
export function checkContentType(value: unknown, field: string): string {
  if (typeof value !== "string") throw new SmtpValidationError(field, "must be a string", "EATTACHMENT");
  const type = value.trim().toLowerCase();
  const slash = type.indexOf("/");
  // RFC 6838 §4.2: type and subtype names are at most 127 characters each.
  if (slash < 0 || slash > 127 || type.length - slash - 1 > 127 || !TOKEN.test(type.slice(0, slash)) || !TOKEN.test(type.slice(slash + 1))) {
    throw new SmtpValidationError(field, 'must be a MIME type such as "application/pdf" (no parameters)', "EATTACHMENT");
  }
  if (type.startsWith("multipart/") || type.startsWith("message/")) {
    throw new SmtpValidationError(
      field,
      "must not be a multipart/* or message/* type (they cannot be base64-encoded); use application/octet-stream",
      "EATTACHMENT",
    );
  }
  return type;
}
