import {
  ConcurrentModificationError,
  NotFoundError,
  ObjectExistsError,
  ObjectReferencedError,
  NsdbUnavailableError,
  ReferenceConflictError,
  StorageFullError,
  StorageTimeoutError,
} from '../../nsdb/errors.ts';
import { BodyTypeError, type Violation } from '../../model/validation.ts';

/** An answer other than success; the server renders it as MidoNet's ErrorEntity. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly violations?: Violation[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, message);
export const notFound = (message: string) => new ApiError(404, message);
export const conflict = (message: string) => new ApiError(409, message);

export function validationError(violations: Violation[]): ApiError {
  return new ApiError(400, 'Validation error(s) found', violations);
}

/** When a client should ask again while the NSDB is away (seconds). */
const RETRY = { 'retry-after': '5' };

/** Maps anything thrown by a handler to the status MidoNet gives it (its tryTx mapping). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof BodyTypeError) return new ApiError(400, err.message);
  if (err instanceof NotFoundError) return new ApiError(404, err.message);
  if (
    err instanceof ObjectExistsError ||
    err instanceof ObjectReferencedError ||
    err instanceof ReferenceConflictError ||
    err instanceof ConcurrentModificationError
  ) {
    return new ApiError(409, err.message);
  }
  if (err instanceof StorageTimeoutError) return new ApiError(503, 'Resource read timeout', undefined, RETRY);
  if (err instanceof NsdbUnavailableError) return new ApiError(503, `The NSDB is not reachable now: ${err.message}`, undefined, RETRY);
  if (err instanceof StorageFullError) return new ApiError(507, err.message);
  return new ApiError(500, err instanceof Error ? err.message : String(err));
}

/** The JSON body of an error answer. */
export function errorBody(e: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: e.message, code: e.status };
  if (e.violations) body.violations = e.violations;
  return body;
}

/**
 * The readable message of an error answer, for clients: the violations when there are any, else
 * the message, else the body as it came (it may not be MidoNet's JSON at all).
 */
export function messageOfErrorBody(text: string): string {
  try {
    const e = JSON.parse(text) as { message?: unknown; violations?: { property: string; message: string }[] };
    if (Array.isArray(e.violations) && e.violations.length > 0) return e.violations.map((v) => `${v.property} ${v.message}`).join('; ');
    if (typeof e.message === 'string') return e.message;
  } catch {
    // not JSON: the text itself
  }
  return text;
}
