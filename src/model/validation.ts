import { isIpv4, isMac, isUuid, parseCidr } from './net.ts';

/**
 * Field specifications for API bodies, checked the way MidoNet's Jackson + bean validation does:
 * a value of the wrong JSON type is a parse error (400 with a message); a well-typed value that
 * breaks a constraint is a violation (400 with `violations`). Unknown properties are ignored.
 */
export type FieldSpec =
  | { t: 'str'; max?: number; min?: number; required?: boolean; pattern?: RegExp; patternText?: string; def?: string }
  | { t: 'bool'; def: boolean }
  | { t: 'int'; min?: number; max?: number; required?: boolean; def?: number | null }
  | { t: 'uuid'; required?: boolean }
  | { t: 'ip'; required?: boolean }
  | { t: 'cidr' }
  | { t: 'mac'; required?: boolean }
  | { t: 'enum'; values: readonly string[]; required?: boolean; def?: string | null; lower?: boolean }
  | { t: 'uuids' }
  | { t: 'strs'; each?: FieldSpec; nullIfEmpty?: boolean }
  | { t: 'obj'; fields: Fields; required?: boolean }
  | { t: 'objs'; fields: Fields; required?: boolean; min?: number };

export type Fields = Record<string, FieldSpec>;

export interface Violation {
  property: string;
  message: string;
}

/** A value of the wrong JSON type: MidoNet answers it like a JSON parse error. */
export class BodyTypeError extends Error {}

export const str = (o: Omit<Extract<FieldSpec, { t: 'str' }>, 't'> = {}): FieldSpec => ({ t: 'str', ...o });
export const bool = (def = false): FieldSpec => ({ t: 'bool', def });
export const int = (o: Omit<Extract<FieldSpec, { t: 'int' }>, 't'> = {}): FieldSpec => ({ t: 'int', ...o });
export const uuid = (required = false): FieldSpec => ({ t: 'uuid', required });
export const ip = (required = false): FieldSpec => ({ t: 'ip', required });
export const mac = (required = false): FieldSpec => ({ t: 'mac', required });
export const oneOf = (values: readonly string[], o: { required?: boolean; def?: string | null; lower?: boolean } = {}): FieldSpec => ({ t: 'enum', values, ...o });
export const uuids = (): FieldSpec => ({ t: 'uuids' });
export const strs = (each?: FieldSpec, nullIfEmpty = false): FieldSpec => ({ t: 'strs', each, nullIfEmpty });
export const obj = (fields: Fields, required = false): FieldSpec => ({ t: 'obj', fields, required });
export const objs = (fields: Fields, o: { required?: boolean; min?: number } = {}): FieldSpec => ({ t: 'objs', fields, ...o });

const NOT_NULL = 'may not be null';

function typeError(path: string, expected: string, v: unknown): BodyTypeError {
  return new BodyTypeError(`Cannot deserialize value ${JSON.stringify(v)} of property ${path}: expected ${expected}`);
}

function asInt(path: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  throw typeError(path, 'an integer', v);
}

function asString(path: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw typeError(path, 'a string', v);
}

function field(spec: FieldSpec, v: unknown, path: string, out: Violation[]): unknown {
  // Jackson reads the text "null" as null for a nullable number, and clients send it (eucanetd: `"nwProto": "null"`).
  const missing = v === undefined || v === null || (spec.t === 'int' && v === 'null');
  const violate = (message: string) => out.push({ property: path, message });
  switch (spec.t) {
    case 'bool':
      if (missing) return spec.def;
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      throw typeError(path, 'a boolean', v);
    case 'int': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return spec.def ?? null;
      }
      const n = asInt(path, v);
      if (spec.min !== undefined && n < spec.min) violate(`must be greater than or equal to ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) violate(`must be less than or equal to ${spec.max}`);
      return n;
    }
    case 'str': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return spec.def ?? null;
      }
      const s = asString(path, v);
      if ((spec.max !== undefined && s.length > spec.max) || (spec.min !== undefined && s.length < spec.min)) {
        violate(`size must be between ${spec.min ?? 0} and ${spec.max ?? 2147483647}`);
      }
      if (spec.pattern && !spec.pattern.test(s)) violate(spec.patternText ?? `must match "${spec.pattern.source}"`);
      return s;
    }
    case 'uuid': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return null;
      }
      const s = asString(path, v);
      if (!isUuid(s)) throw typeError(path, 'a UUID', v);
      return s.toLowerCase();
    }
    case 'ip': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return null;
      }
      const s = asString(path, v);
      if (!isIpv4(s)) violate('is an invalid IP format');
      return s;
    }
    case 'cidr': {
      if (missing) return null;
      const s = asString(path, v);
      if (!parseCidr(s)) violate('is an invalid IP subnet');
      return s;
    }
    case 'mac': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return null;
      }
      const s = asString(path, v);
      if (!isMac(s)) violate('is an invalid MAC format');
      return s.toLowerCase();
    }
    case 'enum': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return spec.def ?? null;
      }
      const s = asString(path, v);
      const found = spec.values.find((x) => (spec.lower ? x.toLowerCase() === s.toLowerCase() : x === s));
      if (found === undefined) throw typeError(path, `one of ${spec.values.join(', ')}`, v);
      return found;
    }
    case 'uuids': {
      if (missing) return [];
      if (!Array.isArray(v)) throw typeError(path, 'a list of UUIDs', v);
      return [...new Set(v.map((x, i) => field({ t: 'uuid', required: true }, x, `${path}[${i}]`, out) as string))];
    }
    case 'strs': {
      if (missing) return spec.nullIfEmpty ? null : [];
      if (!Array.isArray(v)) throw typeError(path, 'a list', v);
      const list = v.map((x, i) => field(spec.each ?? { t: 'str', required: true }, x, `${path}[${i}]`, out) as string);
      return spec.nullIfEmpty && list.length === 0 ? null : list;
    }
    case 'obj': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return null;
      }
      if (typeof v !== 'object' || Array.isArray(v)) throw typeError(path, 'an object', v);
      return decodeInto(spec.fields, v as Record<string, unknown>, out, `${path}.`);
    }
    case 'objs': {
      if (missing) {
        if (spec.required) violate(NOT_NULL);
        return spec.required ? null : [];
      }
      if (!Array.isArray(v)) throw typeError(path, 'a list of objects', v);
      if (spec.min !== undefined && v.length < spec.min) violate(`size must be between ${spec.min} and 2147483647`);
      return v.map((x, i) => field({ t: 'obj', fields: spec.fields, required: true }, x, `${path}[${i}]`, out));
    }
  }
}

function decodeInto(fields: Fields, body: Record<string, unknown>, out: Violation[], prefix: string): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) value[name] = field(spec, body[name], `${prefix}${name}`, out);
  return value;
}

/** Decodes `body` by `fields`: throws BodyTypeError for wrong JSON types, collects violations. */
export function decode(fields: Fields, body: unknown): { value: Record<string, unknown>; violations: Violation[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BodyTypeError('Request body must be a JSON object');
  }
  const violations: Violation[] = [];
  const value = decodeInto(fields, body as Record<string, unknown>, violations, '');
  return { value, violations };
}
