/**
 * Error types as Bedrock names them in `x-amzn-ErrorType`; the AWS SDK turns each into the exception
 * class of the same name.
 */
export const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  ServiceQuotaExceededException: 400,
  AccessDeniedException: 403,
  InvalidSignatureException: 403,
  IncompleteSignatureException: 403,
  MissingAuthenticationTokenException: 403,
  UnrecognizedClientException: 403,
  ExpiredTokenException: 403,
  ResourceNotFoundException: 404,
  ModelTimeoutException: 408,
  ModelErrorException: 424,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ModelStreamErrorException: 424,
  ServiceUnavailableException: 503,
};

const TYPE_FOR_STATUS: Readonly<Record<number, string>> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

export interface BedrockError {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

export function bedrockError(type: string, message: string, status?: number): BedrockError {
  return { type, message, status: status ?? ERROR_STATUS[type] ?? 400 };
}

/** Completes a scripted failure given by type, by status, or both. */
export function scriptedError(errorType: string | undefined, status: number | undefined, message: string | undefined): BedrockError {
  const type = errorType ?? (status !== undefined ? TYPE_FOR_STATUS[status] : undefined) ?? 'InternalServerException';
  return bedrockError(type, message ?? `Scripted ${type} from the local Bedrock stand-in.`, status);
}

export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
