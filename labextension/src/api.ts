/**
 * Sends API requests through JupyterLab's ServerConnection (token, cookies, XSRF) and
 * turns error answers into ApiError.
 */
import { ServerConnection } from '@jupyterlab/services';
import { IApiRequest, requestInit, requestUrl } from './request';

/** An error answer of the API: `{error, message, ...}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    /** Whether the answer was our JSON error (not a page of the server's 404 handler). */
    readonly fromApi = true
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /**
   * True when the endpoint itself is missing (a server without it yet): a 404 that is
   * not the API's JSON error, or a 405 for a method the route lacks.
   */
  get endpointMissing(): boolean {
    return (this.status === 404 && !this.fromApi) || this.status === 405;
  }
}

/** Sends requests of request.ts to the server. */
export class ApiClient {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** The answer's JSON; an ApiError for a non-2xx answer. */
  async send<T>(request: IApiRequest): Promise<T> {
    const url = requestUrl(this.settings.baseUrl, request);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, requestInit(request), this.settings);
    } catch (error) {
      throw new ApiError(0, 'NetworkError', String(error));
    }
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const body = (data ?? {}) as { error?: string; message?: string };
      const fromApi = typeof body.message === 'string' && typeof body.error === 'string';
      const message = body.message || response.statusText || `HTTP ${response.status}`;
      throw new ApiError(response.status, body.error ?? '', message, fromApi);
    }
    return data as T;
  }

  /** As send, but null when the endpoint is missing (an API still being built). */
  async sendOptional<T>(request: IApiRequest): Promise<T | null> {
    try {
      return await this.send<T>(request);
    } catch (error) {
      if (error instanceof ApiError && error.endpointMissing) {
        return null;
      }
      throw error;
    }
  }
}
