/**
 * Name, code and stack frames of an unexpected error, without its message: a store's message can
 * quote the values it choked on (addresses, subjects), which never go to the logs.
 */
export function errorFacts(error: unknown): { errorName: string; errorCode?: unknown; stack?: string } {
  const { name, code, stack } = (error ?? {}) as { name?: string; code?: unknown; stack?: string };
  return { errorName: name ?? typeof error, ...(code !== undefined ? { errorCode: code } : {}), ...(stack ? { stack: stack.split('\n').slice(1).join('\n') } : {}) };
}
