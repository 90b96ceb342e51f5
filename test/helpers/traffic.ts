/** Traffic generators run in VM namespaces as node one-liners. */

/** Prints the length and SHA-256 of one connection's bytes, then exits. */
export const HASH_SERVER = (port: number) =>
  `const h = require('crypto').createHash('sha256'); let n = 0; const srv = require('net').createServer((s) => { s.on('data', (d) => { n += d.length; h.update(d); }); s.on('end', () => { console.log(n, h.digest('hex')); s.end(); srv.close(); }); }).listen(${port})`;

/** Sends `mib` MiB of random bytes and prints their length and SHA-256. */
export const HASH_SEND = (host: string, port: number, mib: number) =>
  `const c = require('crypto'); const h = c.createHash('sha256'); const s = require('net').connect(${port}, '${host}'); let left = ${mib}; const more = () => { while (left > 0) { const b = c.randomBytes(1 << 20); h.update(b); left--; if (!s.write(b)) return s.once('drain', more); } s.end(); console.log(${mib} * (1 << 20), h.digest('hex')); }; s.on('connect', more); s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
