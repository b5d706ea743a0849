// Errors with stable codes, one for each kind we throw. Network failures inside one flow are not
// thrown: they become `flow.error` plus tags (see model/flow.ts).

export type ErrorCode =
  | 'PH_ERR_CONFIG'
  | 'PH_ERR_CA'
  | 'PH_ERR_CA_EXPIRED'
  | 'PH_ERR_HAR';

export class PhonehomeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PhonehomeError';
    this.code = code;
  }
}

/** Bad command line or configuration: the CLI prints the message on one line and exits 1. */
export class ConfigError extends PhonehomeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PH_ERR_CONFIG', message, options);
    this.name = 'ConfigError';
  }
}

export class CaError extends PhonehomeError {
  constructor(code: 'PH_ERR_CA' | 'PH_ERR_CA_EXPIRED', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'CaError';
  }
}

export interface ErrorLike {
  message: string;
  code?: string;
}

export function isErrorLike(value: unknown): value is ErrorLike {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** A short, single-line description of anything thrown. */
export function describeError(value: unknown): string {
  if (isErrorLike(value)) {
    // Node's fs errors already start with their code ("EACCES: permission denied…"): say it once.
    const code = value.code && !value.message.startsWith(`${value.code}:`) ? `${value.code}: ` : '';
    return (code + value.message).replace(/\s+/g, ' ').trim();
  }
  return String(value).replace(/\s+/g, ' ').trim();
}
