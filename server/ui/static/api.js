// The server's HTTP API as the page uses it: JSON calls, the chat stream, errors, the API key.
// Same origin as the page, so every path is relative to the server that served it.

const KEY_STORE = "foresight.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY_STORE) || "";
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

/** An error answer of the server (OpenAI shape), or a failure to reach it. */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.type = e.type || null;
    this.param = e.param || null;
    this.code = e.code || null;
  }

  /** One line for a person: what failed, which field, and what to do about a missing key. */
  describe() {
    const where = this.param ? ` (${this.param})` : "";
    const what = this.status ? `${this.status} ${this.type || "error"}` : "network error";
    const hint = this.status === 401 ? " — enter the server's API key at the top" : "";
    return `${what}${where}: ${this.message}${hint}`;
  }
}

function headers(json) {
  const h = { Accept: "application/json" };
  if (json) h["Content-Type"] = "application/json";
  const key = apiKey();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function fail(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = { error: { message: (await response.text().catch(() => "")) || response.statusText } };
  }
  return new ApiError(response.status, body);
}

async function send(method, path, body, signal) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (exc) {
    if (exc.name === "AbortError") throw exc;
    throw new ApiError(0, { error: { message: `cannot reach the server: ${exc.message}` } });
  }
  if (!response.ok) throw await fail(response);
  return response;
}

export async function call(method, path, body, signal) {
  return (await send(method, path, body, signal)).json();
}

export const getPlan = (id) => call("GET", `/v1/plans/${encodeURIComponent(id)}`);
export const deletePlan = (id) => call("DELETE", `/v1/plans/${encodeURIComponent(id)}`);
export const listPlans = (conversation) =>
  call("GET", `/v1/plans?conversation=${encodeURIComponent(conversation)}&limit=100`);
export const analyze = (body, signal) => call("POST", "/v1/plans/analyze", body, signal);
export const models = () => call("GET", "/v1/models");

/**
 * Stream a chat completion: yields each parsed `data:` chunk until `[DONE]`.
 * An `error` event in the stream (the headers were already sent) is thrown as an ApiError.
 */
export async function* streamChat(body, signal) {
  const response = await send("POST", "/v1/chat/completions", { ...body, stream: true }, signal);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (!data) continue; // a comment (keep-alive ping)
      if (data === "[DONE]") return;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new ApiError(chunk.error.code || 500, chunk);
      yield chunk;
    }
  }
}
