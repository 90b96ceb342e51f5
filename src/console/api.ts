/** The MidoNet API as the console calls it: same origin, the login's cookie, MidoNet's error messages. */

export const API = '/midonet-api';

export async function api<T>(path: string, init: RequestInit & { media?: string } = {}): Promise<T> {
  const media = init.media ?? 'application/json';
  const r = await fetch(`${API}${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: { accept: media, ...(init.body ? { 'content-type': media } : {}) },
  });
  const text = await r.text();
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? message;
    } catch {
      // Not MidoNet's error body: the status says it.
    }
    throw new Error(message);
  }
  return (text ? JSON.parse(text) : null) as T;
}

/** MidoNet's login, without the challenge that makes browsers ask by themselves; the answer sets the session cookie. */
export async function login(user: string, password: string, project: string): Promise<void> {
  const r = await fetch('/console/login', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Basic ${btoa(`${user}:${password}`)}`, ...(project ? { 'x-auth-project': project } : {}) },
  });
  if (!r.ok) throw new Error(r.status === 401 ? 'wrong user or password' : `login failed: ${r.status}`);
}
