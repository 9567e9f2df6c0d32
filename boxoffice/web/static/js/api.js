// The only way the UI reaches data: the public API under /api/v1.
// The access token lives in memory only; the refresh token in sessionStorage, so a reload of
// this tab stays logged in while a closed browser does not. A tab opened from this one starts
// with a copy of it: see refresh() for how such tabs share one session.

const BASE = "/api/v1";
const REFRESH_KEY = "boxoffice.refresh_token";
// Refresh this long before the access token expires, so requests never meet an expired one.
const REFRESH_MARGIN_SECONDS = 60;
// The latest rotation of a session's refresh token, where every tab of this site sees it.
const ROTATION_KEY = "boxoffice.rotation";
const REFRESH_LOCK = "boxoffice.refresh";

/** @typedef {{id: number, email: string, full_name: string, role: "attendee" | "organizer" | "admin"}} User */
/** @typedef {{access_token: string, refresh_token: string, expires_at: number}} Tokens */
/** @typedef {{from: string, to: Tokens}} Rotation */
/**
 * @typedef {object} RequestOptions
 * @property {unknown} [json] the body, sent as JSON
 * @property {Record<string, string>} [headers]
 * @property {string} [accept]
 */

/** @type {string | null} */
let accessToken = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
/** @type {Promise<void> | null} */
let refreshing = null;
/** @type {User | null} */
let currentUser = null;
/** @type {Set<(user: User | null) => void>} */
const listeners = new Set();
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("boxoffice.session") : null;

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {{detail?: string, title?: string, code?: string}} problem
   */
  constructor(status, problem) {
    super(problem.detail || problem.title || `request failed (${status})`);
    this.status = status;
    this.code = problem.code || "error";
    this.detail = this.message;
  }
}

/** Called with the current user (or null) whenever someone logs in or out. */
export function onSessionChange(/** @type {(user: User | null) => void} */ listener) {
  listeners.add(listener);
}

export function user() {
  return currentUser;
}

function setUser(/** @type {User | null} */ value) {
  currentUser = value;
  for (const listener of listeners) listener(currentUser);
}

function keep(/** @type {Tokens} */ tokens) {
  accessToken = tokens.access_token;
  sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
  clearTimeout(refreshTimer);
  const lifetime = (tokens.expires_at - Date.now()) / 1000;
  const delay = Math.max(lifetime - REFRESH_MARGIN_SECONDS, lifetime / 2, 1);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay * 1000);
}

/** @returns {Tokens} */
function tokensFrom(/** @type {{access_token: string, refresh_token: string, expires_in: number}} */ pair) {
  const { access_token, refresh_token, expires_in } = pair;
  return { access_token, refresh_token, expires_at: Date.now() + expires_in * 1000 };
}

/** @returns {Rotation | null} */
function lastRotation() {
  try {
    return JSON.parse(localStorage.getItem(ROTATION_KEY) || "null");
  } catch {
    return null;
  }
}

function forget() {
  accessToken = null;
  clearTimeout(refreshTimer);
  if (lastRotation()?.to.refresh_token === sessionStorage.getItem(REFRESH_KEY)) localStorage.removeItem(ROTATION_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
  setUser(null);
}

// A tab of the same session rotated the refresh token this tab holds: take the new pair.
tabs?.addEventListener("message", (event) => {
  const rotation = /** @type {Rotation} */ (event.data);
  if (rotation.from === sessionStorage.getItem(REFRESH_KEY)) keep(rotation.to);
});

/** One refresh at a time across this site's tabs, where the browser can tell (Web Locks). */
function oneAtATime(/** @type {() => Promise<void>} */ work) {
  return navigator.locks ? navigator.locks.request(REFRESH_LOCK, work) : work();
}

/**
 * A new token pair for this tab's session. A refresh token presented again after it was rotated
 * ends the whole session (the API's defence against a stolen token), and tabs opened from one
 * another hold the same one: so a rotation is announced to the other tabs and recorded where
 * they see it, and a tab whose token was rotated by another takes the new pair instead of
 * presenting its old token.
 */
function refresh() {
  refreshing ??= oneAtATime(async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new ApiError(401, { detail: "please log in", code: "not_authenticated" });
    const rotation = lastRotation();
    if (rotation?.from === token) {
      keep(rotation.to);
      return;
    }
    try {
      const tokens = tokensFrom(await send("POST", "/auth/refresh", { json: { refresh_token: token } }, false));
      keep(tokens);
      localStorage.setItem(ROTATION_KEY, JSON.stringify({ from: token, to: tokens }));
      tabs?.postMessage({ from: token, to: tokens });
    } catch (error) {
      if (error instanceof ApiError && [401, 403].includes(error.status)) forget();
      throw error;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>} the answer's JSON, a Blob for anything else, null for 204
 */
async function send(method, path, { json, headers = {}, accept } = {}, authorized = true) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
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
    throw new ApiError(0, {
      detail: "The server cannot be reached; check your connection and try again.",
      code: "offline",
    });
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

/**
 * An API call; an expired access token is refreshed once and the call repeated.
 * @param {string} method
 * @param {string} path
 * @param {RequestOptions} [options]
 */
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

export const get = (/** @type {string} */ path, /** @type {RequestOptions} */ options = {}) =>
  request("GET", path, options);
export const post = (
  /** @type {string} */ path,
  /** @type {unknown} */ json = undefined,
  /** @type {RequestOptions} */ options = {},
) => request("POST", path, { ...options, json });
export const patch = (/** @type {string} */ path, /** @type {unknown} */ json) => request("PATCH", path, { json });
export const del = (/** @type {string} */ path) => request("DELETE", path);

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(/** @type {Record<string, unknown>} */ params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  return search.size ? `?${search}` : "";
}

export async function logIn(/** @type {string} */ email, /** @type {string} */ password) {
  keep(tokensFrom(await send("POST", "/auth/login", { json: { email, password } }, false)));
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
    // A session the API ended is already forgotten by refresh(). Any other failure keeps the
    // refresh token: the server may be out of reach for a moment, or this page is being
    // reloaded, which aborts its requests, and forgetting the token now would log out the page
    // that replaces this one.
  }
}

/** A random Idempotency-Key; randomUUID needs a secure context, getRandomValues does not. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
