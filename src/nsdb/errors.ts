/** Storage failures, each mapped to one HTTP status by the API (see cluster/api/errors.ts). */
export class StorageError extends Error {}

export class NotFoundError extends StorageError {
  constructor(readonly type: string, readonly id: string) {
    super(`There is no ${type} with ID ${id}.`);
  }
}

export class ObjectExistsError extends StorageError {
  constructor(readonly type: string, readonly id: string) {
    super(`A(n) ${type} with ID ${id} already exists.`);
  }
}

/** A scalar back-reference already points at another object. */
export class ReferenceConflictError extends StorageError {
  constructor(type: string, id: string, field: string, current: string) {
    super(`The ${type} ${id} field ${field} already references ${current}.`);
  }
}

/** Deleting an object that a binding declared ERROR still points at. */
export class ObjectReferencedError extends StorageError {
  constructor(type: string, id: string, refType: string, refId: string) {
    super(`The ${type} ${id} cannot be deleted because it is referenced by ${refType} ${refId}.`);
  }
}

/** An optimistic version check failed: someone else wrote first. */
export class ConcurrentModificationError extends StorageError {
  constructor(detail: string) {
    super(`Concurrent modification: ${detail}`);
  }
}

export class StorageTimeoutError extends StorageError {}
