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

/**
 * A unique index key is already held by another object. A race like any other (the transaction
 * runs again and its checks see the holder), hence a concurrent modification.
 */
export class UniqueViolationError extends ConcurrentModificationError {
  constructor(readonly index: string, readonly key: string) {
    super(`${index} ${key} is already taken`);
  }
}

export class StorageTimeoutError extends StorageError {}

/** The NSDB cannot be reached now (ZooKeeper session lost, being renewed): try again shortly. */
export class NsdbUnavailableError extends StorageError {}

/** The NSDB's disk is full: nothing more can be written until space is freed. */
export class StorageFullError extends StorageError {}
