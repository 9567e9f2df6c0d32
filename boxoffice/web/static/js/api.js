// The only way the UI reaches data: the public API under /api/v1.
// The access token lives in memory only; the refresh token in sessionStorage, so a reload of
// this tab stays logged in while other tabs and a closed browser do not.

const BASE = "/api/v1";
const REFRESH_KEY = "boxoffice.refresh_token";
// Refresh this long before the access token expires, so requests never meet an expired one.
const REFRESH_MARGIN_SECONDS = 60;

let accessToken = null;
let refreshTimer = null;
let refreshing = null;
let currentUser = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `request failed (${status})`);
    this.status = status;
    this.code = problem.code || "error";
    this.detail = this.message;
  }
}

/** Called with the current user (or null) whenever someone logs in or out. */
export function onSessionChange(listener) {
  listeners.add(listener);
}

export function user() {
  return currentUser;
}

function setUser(value) {
  currentUser = value;
  for (const listener of listeners) listener(currentUser);
}

function store(pair) {
  accessToken = pair.access_token;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  clearTimeout(refreshTimer);
  const delay = Math.max(pair.expires_in - REFRESH_MARGIN_SECONDS, pair.expires_in / 2, 1);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay * 1000);
}

function forget() {
  accessToken = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  setUser(null);
}

// One refresh at a time: a rotated-out refresh token presented twice ends the whole session.
function refresh() {
  refreshing ??= (async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new ApiError(401, { detail: "please log in", code: "not_authenticated" });
    try {
      store(await send("POST", "/auth/refresh", { json: { refresh_token: token } }, false));
    } catch (error) {
      if (error instanceof ApiError && [401, 403].includes(error.status)) forget();
      throw error;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function send(method, path, { json, headers = {}, accept } = {}, authorized = true) {
  const init = { method, headers: { ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  if (accept) init.headers.Accept = accept;
  if (authorized && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, { detail: "The server cannot be reached; check your connection and try again.", code: "offline" });
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `${response.status} ${response.statusText}` };
    }
    throw new ApiError(response.status, problem);
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.blob();
}

/** An API call; an expired access token is refreshed once and the call repeated. */
async function request(method, path, options = {}) {
  try {
    return await send(method, path, options);
  } catch (error) {
    const retry = error instanceof ApiError && error.status === 401 && sessionStorage.getItem(REFRESH_KEY);
    if (!retry) throw error;
    try {
      await refresh();
    } catch (refused) {
      // The session is over (logged out elsewhere, banned): go on as an anonymous visitor,
      // so public pages still load and others say why they cannot.
      if (accessToken === null) return send(method, path, options);
      throw refused;
    }
    return send(method, path, options);
  }
}

export const get = (path, options) => request("GET", path, options);
export const post = (path, json, options = {}) => request("POST", path, { ...options, json });
export const patch = (path, json) => request("PATCH", path, { json });
export const del = (path) => request("DELETE", path);

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function logIn(email, password) {
  store(await send("POST", "/auth/login", { json: { email, password } }, false));
  setUser(await get("/users/me"));
}

export async function logOut() {
  try {
    if (accessToken) await send("POST", "/auth/logout");
  } finally {
    forget();
  }
}

/** On page load: a refresh token from this tab's earlier life logs the person back in. */
export async function resume() {
  if (!sessionStorage.getItem(REFRESH_KEY)) return;
  try {
    await refresh();
    setUser(await get("/users/me"));
  } catch {
    forget();
  }
}

/** A random Idempotency-Key; randomUUID needs a secure context, getRandomValues does not. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
