/** REST calls to our own API with the session's bearer token; failures become `ApiError`s with the server's code. */

export class ApiError extends Error {
  constructor(
    /** The server's error code (validation_failed, conflict…), or `network` / `timeout` when no answer came. */
    readonly code: string,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let bearer: string | null = null;
let onUnauthenticated: (() => void) | null = null;

export function setApiSession(token: string | null, unauthenticated: (() => void) | null): void {
  bearer = token;
  onUnauthenticated = unauthenticated;
}

const timeoutMs = 15_000;

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await send(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return readJson<T>(response, path);
}

async function send(path: string, init: RequestInit & { headers: Record<string, string> }, ms = timeoutMs): Promise<Response> {
  if (bearer) init.headers.authorization = `Bearer ${bearer}`;
  try {
    return await fetch(path, { ...init, signal: AbortSignal.timeout(ms) });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    throw new ApiError(timedOut ? 'timeout' : 'network', timedOut ? 'The server did not answer in time' : 'The server could not be reached', 0);
  }
}

/** Sends a file as the raw body (the task attachment API names it by X-Filename). */
export async function apiUpload<T>(path: string, file: File): Promise<T> {
  const headers = {
    accept: 'application/json',
    // express.json would take a JSON file's body before the upload route sees it.
    'content-type': file.type && file.type !== 'application/json' ? file.type : 'application/octet-stream',
    'x-filename': encodeURIComponent(file.name),
  };
  return readJson<T>(await send(path, { method: 'POST', headers, body: file }, 120_000), path);
}

/** Fetches a protected file with the bearer token and hands it to the browser as a download. */
export async function apiDownload(path: string, filename: string): Promise<void> {
  const response = await send(path, { method: 'GET', headers: {} }, 120_000);
  if (!response.ok) await readJson(response, path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function readJson<T>(response: Response, path: string): Promise<T> {
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    if (response.status === 401 && path !== '/api/auth/login') onUnauthenticated?.();
    throw new ApiError(error?.code ?? `http_${response.status}`, error?.message ?? (response.statusText || `HTTP ${response.status}`), response.status, error?.details);
  }
  return json as T;
}

/** Builds a query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
