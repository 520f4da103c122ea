import type { EdgeTarget } from './deliveries';

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
}

/**
 * The REST API as a client behind a load balancer sees it: each call goes to the next node (a
 * refused connection to the next one after it), and `call` answers whatever came back (network
 * errors and timeouts as status 0, with the error's code).
 */
export class ApiClient {
  private turn = 0;

  constructor(
    private readonly targets: () => EdgeTarget[],
    private readonly timeoutMs: number,
    public token = '',
  ) {}

  async call<T = any>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const targets = this.targets();
    let answer: ApiAnswer<T> | undefined;
    // A refused connection reached no server: the next node gets it, as a load balancer would do.
    for (let tries = 0; tries < targets.length; tries += 1) {
      const target = targets[this.turn++ % targets.length];
      answer = await this.once<T>(target, method, path, body);
      if (!(answer.status === 0 && (answer.body as { error?: { code?: string } }).error?.code === 'ECONNREFUSED')) return answer;
    }
    return answer!;
  }

  private async once<T>(target: EdgeTarget, method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    try {
      const response = await fetch(`${target.url}${path}`, {
        method,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // keep the text
      }
      return { status: response.status, body: parsed as T };
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      return { status: 0, body: { error: { code, message: (error as Error).message } } as T };
    }
  }

  /** Repeats a safe call (a read, or a change the server refuses twice with 409) until it answers 2xx/404/409 or time runs out. */
  async retrying<T = any>(method: string, path: string, body: unknown, until: number, done = (status: number) => (status >= 200 && status < 300) || status === 404 || status === 409): Promise<ApiAnswer<T>> {
    let answer = await this.call<T>(method, path, body);
    while (!done(answer.status) && Date.now() + 500 < until) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      answer = await this.call<T>(method, path, body);
    }
    return answer;
  }
}
