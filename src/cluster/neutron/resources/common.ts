import { randomUUID } from 'node:crypto';
import type { Translation } from '../translation/context.ts';
import { NOT_FOUND } from '../errors.ts';
import type { Standard } from '../../../model/neutron.ts';

/** One Neutron write: its translation, whose project asks, and which front (see attributes.ts). */
export interface Op {
  t: Translation;
  tenant: string;
  /** The MidoNet plugin's front: Neutron already allocated ids, addresses and ports. */
  trusted: boolean;
  now: string;
}

/** What each Neutron resource does on create, update and delete, translation included. */
export interface Handler<O extends Standard = Standard> {
  /** Singular name, as in bodies and error types: network, security_group ... */
  resource: string;
  /** Store type. */
  type: string;
  create(op: Op, input: Record<string, unknown>): Promise<O>;
  update(op: Op, old: O, input: Record<string, unknown>): Promise<O>;
  remove(op: Op, obj: O): Promise<void>;
}

/** Neutron's timestamps: seconds, UTC, with a Z. */
export const timestamp = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The standard attributes of a new object: a fresh id (or the plugin's), project, timestamps. */
export function standard(op: Op, input: Record<string, unknown>): Standard {
  const tenant = (input.tenant_id ?? input.project_id ?? op.tenant) as string;
  return {
    id: op.trusted && typeof input.id === 'string' ? input.id : randomUUID(),
    tenant_id: tenant,
    project_id: tenant,
    description: (input.description as string | undefined) ?? '',
    tags: [],
    created_at: op.now,
    updated_at: op.now,
    revision_number: 0,
  };
}

/** An object after an update: the given attributes over the old ones, identity kept, revision bumped. */
export function merged<O extends Standard>(op: Op, old: O, input: Record<string, unknown>): O {
  return { ...old, ...input, id: old.id, tenant_id: old.tenant_id, project_id: old.project_id, created_at: old.created_at, updated_at: op.now, revision_number: old.revision_number + 1 };
}

/**
 * The plain update: the given attributes merged in, the lists only the server keeps carried over,
 * stored, and translated again.
 */
export async function storeUpdate<O extends Standard>(
  op: Op, type: string, old: O, input: Record<string, unknown>, kept: (keyof O)[],
  translate: (t: Translation, o: O, old: O) => Promise<void>,
): Promise<O> {
  const o = merged(op, old, input);
  for (const k of kept) o[k] = old[k];
  await op.t.tx.update(type, o);
  await translate(op.t, o, old);
  return o;
}

/** The object of a resource, or that resource's 404. */
export async function load<O>(op: Op, type: string, resource: string, id: string): Promise<O> {
  const o = await op.t.tx.tryGet<O & { id: string }>(type, id);
  if (!o) throw NOT_FOUND[resource]!(id);
  return o;
}

/** The attribute as given, or the default when the body leaves it out. */
export function given<V>(input: Record<string, unknown>, key: string, fallback: V): V {
  return key in input && input[key] !== undefined ? (input[key] as V) : fallback;
}
