// The typed failures of the Databricks client. Callers branch on `kind` (stable strings), never on
// the message. Messages are built from server text that the client has already scrubbed of the
// access token, and no error keeps a reference to a request, its headers or a raw fetch failure.

export type DatabricksErrorKind = 'statement' | 'canceled' | 'timeout' | 'unavailable' | 'auth' | 'http' | 'protocol';

export interface DatabricksErrorDetails {
  statementId?: string | undefined;
}

export class DatabricksError extends Error {
  readonly kind: DatabricksErrorKind;
  readonly statementId: string | undefined;

  constructor(kind: DatabricksErrorKind, message: string, details: DatabricksErrorDetails = {}) {
    super(message);
    this.name = 'DatabricksError';
    this.kind = kind;
    this.statementId = details.statementId;
  }

  /** Logs and problem documents serialise errors; this keeps that output to the safe fields. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, kind: this.kind, message: this.message };
    for (const [key, value] of Object.entries(this)) {
      if (value !== undefined && !(key in out)) out[key] = value;
    }
    return out;
  }
}

/** The warehouse ran the statement and it FAILED (bad SQL, missing table, cast error...). */
export class DatabricksStatementError extends DatabricksError {
  readonly errorCode: string;
  readonly sqlState: string | undefined;

  constructor(message: string, details: DatabricksErrorDetails & { errorCode: string; sqlState?: string | undefined }) {
    super('statement', message, details);
    this.name = 'DatabricksStatementError';
    this.errorCode = details.errorCode;
    this.sqlState = details.sqlState;
  }
}

/** The statement was canceled: by the warehouse, by an administrator, or because the caller aborted. */
export class DatabricksCanceledError extends DatabricksError {
  constructor(message: string, details: DatabricksErrorDetails = {}) {
    super('canceled', message, details);
    this.name = 'DatabricksCanceledError';
  }
}

/** The caller's deadline passed; a running statement has been asked to cancel. */
export class DatabricksTimeoutError extends DatabricksError {
  readonly timeoutMs: number;

  constructor(message: string, details: DatabricksErrorDetails & { timeoutMs: number }) {
    super('timeout', message, details);
    this.name = 'DatabricksTimeoutError';
    this.timeoutMs = details.timeoutMs;
  }
}

/** Throttled (429), temporarily unavailable (503) after the retries, or not reachable at all. */
export class DatabricksUnavailableError extends DatabricksError {
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, details: DatabricksErrorDetails & { status?: number | undefined; retryAfterSeconds?: number | undefined } = {}) {
    super('unavailable', message, details);
    this.name = 'DatabricksUnavailableError';
    this.status = details.status;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** 401 or 403: the token is missing, wrong, expired or lacks access to the warehouse. */
export class DatabricksAuthError extends DatabricksError {
  readonly status: number;
  readonly errorCode: string | undefined;

  constructor(message: string, details: DatabricksErrorDetails & { status: number; errorCode?: string | undefined }) {
    super('auth', message, details);
    this.name = 'DatabricksAuthError';
    this.status = details.status;
    this.errorCode = details.errorCode;
  }
}

/** Any other HTTP error answer, with the API's own error_code and message. */
export class DatabricksHttpError extends DatabricksError {
  readonly status: number;
  readonly errorCode: string | undefined;

  constructor(message: string, details: DatabricksErrorDetails & { status: number; errorCode?: string | undefined }) {
    super('http', message, details);
    this.name = 'DatabricksHttpError';
    this.status = details.status;
    this.errorCode = details.errorCode;
  }
}

/** The answer did not follow the API contract: unparseable JSON, missing fields, rows that do not add up. */
export class DatabricksProtocolError extends DatabricksError {
  constructor(message: string, details: DatabricksErrorDetails = {}) {
    super('protocol', message, details);
    this.name = 'DatabricksProtocolError';
  }
}

export function isDatabricksError(value: unknown): value is DatabricksError {
  return value instanceof DatabricksError;
}
