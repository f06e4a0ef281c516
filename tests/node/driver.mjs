// One JSON-lines loop shared by the client scripts: the test (tests/api/test_js_clients.py)
// writes `{"op": NAME, "input": {...}}` lines on stdin, the script runs that one step with the
// real library and writes one line back: `{"ok": true, "result": ...}` or
// `{"ok": false, "error": {"name", "message"}}`, with the wire traffic the step caused (every
// X-Amz-Target, status and JSON body) so that a failure names the request that went wrong.
import { createInterface } from 'node:readline';

const wire = [];

/** Record every call either library makes through the global fetch (both call it at run time). */
export function recordWire() {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers ?? {});
    const entry = {
      url: String(url),
      target: (headers.get('x-amz-target') ?? '').split('.').pop(),
      request: parseJson(init.body),
    };
    wire.push(entry);
    const response = await realFetch(url, init);
    entry.status = response.status;
    entry.response = parseJson(await response.clone().text());
    return response;
  };
}

function parseJson(text) {
  if (typeof text !== 'string' || text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A Map-backed key-value store with the async interface Amplify's token provider takes. */
export class MapStorage {
  constructor() {
    this.map = new Map();
  }
  async setItem(key, value) {
    this.map.set(key, value);
  }
  async getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  async removeItem(key) {
    this.map.delete(key);
  }
  async clear() {
    this.map.clear();
  }
  dump() {
    return Object.fromEntries(this.map);
  }
}

/** A JWT as the test wants it: the compact form and its claims. */
export function jwt(token) {
  if (!token) return null;
  const compact = typeof token === 'string' ? token : token.toString();
  const payload = JSON.parse(Buffer.from(compact.split('.')[1], 'base64url').toString());
  return { jwt: compact, payload };
}

function describeError(error) {
  return {
    name: error?.name ?? 'Error',
    message: error?.message ?? String(error),
    code: error?.code,
    underlying: error?.underlyingError
      ? { name: error.underlyingError.name, message: error.underlyingError.message }
      : undefined,
  };
}

function plain(value) {
  return JSON.parse(JSON.stringify(value ?? null));
}

/** Read steps from stdin and run each with `ops[op](input)`, one answer line per step. */
export async function serve(ops) {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    const before = wire.length;
    try {
      const { op, input } = JSON.parse(line);
      if (!Object.hasOwn(ops, op)) throw new Error(`unknown op ${op}`);
      answer = { ok: true, result: plain(await ops[op](input ?? {})) };
    } catch (error) {
      answer = { ok: false, error: describeError(error) };
    }
    answer.wire = wire.slice(before);
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
}

/** The scenario's settings: one JSON object as the script's first argument. */
export function settings() {
  return JSON.parse(process.argv[2] ?? '{}');
}
