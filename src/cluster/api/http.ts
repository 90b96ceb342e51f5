import type { Store } from '../../nsdb/store.ts';
import type { AuthService, User } from './auth.ts';
import type { MediaSpec } from './media.ts';

/** What a resource handler gets for one request. */
export interface Ctx {
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Absolute URI of the API root, without trailing slash: http://host:8181/midonet-api */
  base: string;
  store: Store;
  auth: AuthService;
  user: User;
  /** Version of the negotiated media type (request body type for writes, answer type for reads). */
  version: number;
  /** The parsed JSON body; a malformed or missing body is a 400. */
  body(): unknown;
  /** The body as sent (for text resources). */
  raw(): string;
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Media type of the body when the request did not negotiate one (a created entity echoed). */
  type?: string;
}

export interface Endpoint {
  /** Types accepted (POST/PUT) or produced (GET); none: no negotiation (DELETE, text answers). */
  media?: MediaSpec;
  handle(ctx: Ctx): Promise<Reply>;
}

export type Method = 'get' | 'post' | 'put' | 'delete';

export type Route = { path: string } & Partial<Record<Method, Endpoint>>;

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const created = (location: string, body?: unknown): Reply => ({ status: 201, body, headers: { location } });
export const noContent = (): Reply => ({ status: 204 });
