// The only way the UI reaches data: the public API under /api/v1.
// The access token lives in memory only; the refresh token in sessionStorage, so a reload of
// this tab stays logged in while a closed browser does not. A tab opened from this one starts
// with a copy of it: see refresh() for how such tabs share one session. No token of a session
// is ever written where it would outlive the tab (localStorage). A scanner key (`bearer`) is sent
// as it is given; the scanner page keeps it (pages/scanner.js).

const BASE = "/api/v1";
const REFRESH_KEY = "boxoffice.refresh_token";
// A random name for this tab's session, shared by the tabs opened from it (sessionStorage is
// copied into them), so that the tabs of one session know each other's messages.
const SESSION_KEY = "boxoffice.session";
// Set when this tab's session ended other than by its own log-out, until the log-in page says so.
const ENDED_KEY = "boxoffice.session_ended";
// Refresh this long before the access token expires, so requests never meet an expired one.
const REFRESH_MARGIN_SECONDS = 60;
// Under this prefix and the session's name, the SHA-256 of each refresh token a tab of that
// session rotated out, where every tab of this site sees it: see refresh().
const ROTATED_PREFIX = "boxoffice.rotated.";
// A mark older than the API's default refresh-token lifetime names a token that has expired.
const ROTATED_KEEP_MS = 7 * 24 * 3600 * 1000;
// How long a tab whose token was rotated waits for another tab to hand it the new pair.
const ANSWER_WAIT_MS = 500;
const REFRESH_LOCK = "boxoffice.refresh";

/**
 * @typedef {{id: number, email: string, full_name: string, role: "attendee" | "organizer" | "admin",
 *   email_verified: boolean, notify_reminders: boolean, notify_changes: boolean}} User
 */
/** @typedef {{access_token: string, refresh_token: string, expires_at: number}} Tokens */
/** @typedef {Record<string, number>} Rotated the hash of each rotated-out token: when */
/**
 * What the tabs of a session tell each other.
 * @typedef {{type: "rotated", session: string, tokens: Tokens}
 *   | {type: "ask", session: string, of: string}
 *   | {type: "successor", session: string, tokens: Tokens}
 *   | {type: "ended", session: string}} Message
 */
/**
 * @typedef {object} RequestOptions
 * @property {unknown} [json] the body, sent as JSON
 * @property {Record<string, string>} [headers]
 * @property {string} [accept]
 * @property {string} [bearer] a scanner key, sent instead of the session's token (never refreshed)
 */

/** @type {Tokens | null} */
let current = null;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
/** @type {Promise<void> | null} */
let refreshing = null;
/** @type {User | null} */
let currentUser = null;
/** @type {Set<(user: User | null) => void>} */
const listeners = new Set();
/** @type {Set<() => void>} */
const endListeners = new Set();
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("boxoffice.session") : null;

// Earlier versions kept the latest token pair here.
localStorage.removeItem("boxoffice.rotation");

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

/** Called when this tab's session ends other than by its own log-out (after onSessionChange). */
export function onSessionEnd(/** @type {() => void} */ listener) {
  endListeners.add(listener);
}

/** Whether this tab's session ended other than by its own log-out, unsaid so far; true once. */
export function takeSessionEnd() {
  const ended = sessionStorage.getItem(ENDED_KEY) !== null;
  sessionStorage.removeItem(ENDED_KEY);
  return ended;
}

export function user() {
  return currentUser;
}

function setUser(/** @type {User | null} */ value) {
  currentUser = value;
  for (const listener of listeners) listener(currentUser);
}

function keep(/** @type {Tokens} */ tokens) {
  current = tokens;
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

/** A pair whose access token has expired is never taken from another tab. */
function usable(/** @type {Tokens} */ tokens) {
  return tokens.expires_at > Date.now();
}

/** Drops this tab's session; `ended` when that is not the person's own log-out in this tab. */
function forget(ended = false) {
  current = null;
  clearTimeout(refreshTimer);
  sessionStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(SESSION_KEY);
  if (ended) sessionStorage.setItem(ENDED_KEY, "");
  setUser(null);
  if (ended) for (const listener of endListeners) listener();
}

/** The session is over for every tab of it: they forget it, and its marks go. */
function endEverywhere(/** @type {string | null} */ session) {
  if (!session) return;
  tell({ type: "ended", session });
  localStorage.removeItem(ROTATED_PREFIX + session);
}

/** This tab's session's name; a session from before there were names gets one. */
function sessionName() {
  const name = sessionStorage.getItem(SESSION_KEY) || newKey();
  sessionStorage.setItem(SESSION_KEY, name);
  return name;
}

function tell(/** @type {Message} */ message) {
  tabs?.postMessage(message);
}

/** The SHA-256 of a token, hex; null where the browser has no crypto.subtle (plain HTTP). */
async function digest(/** @type {string} */ token) {
  if (!crypto.subtle) return null;
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

/** @returns {Rotated} */
function rotations(/** @type {string} */ key) {
  try {
    return JSON.parse(localStorage.getItem(key) || "{}");
  } catch {
    return {};
  }
}

/** Marks `token` as rotated out. Under the refresh lock, so one tab of the site writes at a time. */
async function markRotated(/** @type {string} */ session, /** @type {string} */ token) {
  const hash = await digest(token);
  if (!hash) return;
  const now = Date.now();
  // Sessions never logged out (the browser was closed) leave marks: drop those too old to matter.
  for (const key of Object.keys(localStorage).filter((name) => name.startsWith(ROTATED_PREFIX))) {
    const recent = Object.entries(rotations(key)).filter(([, at]) => at > now - ROTATED_KEEP_MS);
    if (recent.length) localStorage.setItem(key, JSON.stringify(Object.fromEntries(recent)));
    else localStorage.removeItem(key);
  }
  const key = ROTATED_PREFIX + session;
  try {
    localStorage.setItem(key, JSON.stringify({ ...rotations(key), [hash]: now }));
  } catch {
    // Storage full or refused: a tab that misses the announcement will present its old token.
  }
}

function rotatedOut(/** @type {string} */ session, /** @type {string | null} */ hash) {
  return hash !== null && Object.hasOwn(rotations(ROTATED_PREFIX + session), hash);
}

/**
 * The pair that replaced this tab's token, from a tab of the same session that holds it; null if
 * none answers in time (they were all closed, or asleep).
 * @param {string} session
 * @param {string} hash the SHA-256 of this tab's token
 * @returns {Promise<Tokens | null>}
 */
function askForSuccessor(session, hash) {
  return new Promise((resolve) => {
    if (!tabs) return resolve(null);
    const channel = tabs;
    const done = (/** @type {Tokens | null} */ tokens) => {
      clearTimeout(timer);
      channel.removeEventListener("message", listen);
      resolve(tokens);
    };
    const listen = async (/** @type {MessageEvent<Message>} */ event) => {
      const message = event.data;
      if (message.type !== "successor" || message.session !== session || !usable(message.tokens)) return;
      // A tab that is itself behind may answer too; only the session's latest pair will do.
      if (!rotatedOut(session, await digest(message.tokens.refresh_token))) done(message.tokens);
    };
    const timer = setTimeout(() => done(null), ANSWER_WAIT_MS);
    channel.addEventListener("message", listen);
    tell({ type: "ask", session, of: hash });
  });
}

// What the other tabs of this tab's session say: a new pair, a question for it, the end.
tabs?.addEventListener("message", (event) => {
  const message = /** @type {Message} */ (event.data);
  const session = sessionStorage.getItem(SESSION_KEY);
  if (!session || message.session !== session) return;
  if (message.type === "rotated" && usable(message.tokens)) keep(message.tokens);
  if (message.type === "ended") forget(true);
  if (message.type === "ask" && current && usable(current) && rotatedOut(session, message.of)) {
    tell({ type: "successor", session, tokens: current });
  }
});

/** One refresh at a time across this site's tabs, where the browser can tell (Web Locks). */
function oneAtATime(/** @type {() => Promise<void>} */ work) {
  return navigator.locks ? navigator.locks.request(REFRESH_LOCK, work) : work();
}

/**
 * A new token pair for this tab's session. A refresh token presented again after it was rotated
 * ends the whole session (the API's defence against a stolen token), and tabs opened from one
 * another hold the same one. So a rotation is announced to the other tabs with the new pair, and
 * marked in localStorage by the old token's hash only. A tab that missed the announcement
 * (reloading, asleep) and finds its token marked asks the others for the new pair; if none
 * answers, its session is over for it, and its old token is never presented.
 */
function refresh() {
  const before = sessionStorage.getItem(REFRESH_KEY);
  refreshing ??= oneAtATime(async () => {
    const token = sessionStorage.getItem(REFRESH_KEY);
    if (!token) throw new ApiError(401, { detail: "please log in", code: "not_authenticated" });
    // Another tab rotated it while this one waited for the lock, and this one took the pair.
    if (token !== before && current && usable(current)) return;
    const session = sessionName();
    const hash = await digest(token);
    if (rotatedOut(session, hash)) {
      const successor = await askForSuccessor(session, /** @type {string} */ (hash));
      if (successor) return keep(successor);
      forget(true);
      throw new ApiError(401, { detail: "Your session has ended.", code: "session_ended" });
    }
    try {
      const tokens = tokensFrom(await send("POST", "/auth/refresh", { json: { refresh_token: token } }, false));
      keep(tokens);
      await markRotated(session, token);
      tell({ type: "rotated", session, tokens });
    } catch (error) {
      if (error instanceof ApiError && [401, 403].includes(error.status)) {
        endEverywhere(session);
        forget(true);
      }
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
async function send(method, path, { json, headers = {}, accept, bearer } = {}, authorized = true) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: { ...headers } };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  if (accept) init.headers.Accept = accept;
  const token = bearer ?? (authorized && current ? current.access_token : null);
  if (token) init.headers.Authorization = `Bearer ${token}`;
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
    // A scanner key is what it is: a refresh would not make a revoked one work.
    const retry =
      error instanceof ApiError && error.status === 401 && !options.bearer && sessionStorage.getItem(REFRESH_KEY);
    if (!retry) throw error;
    try {
      await refresh();
    } catch (refused) {
      // The session is over (logged out elsewhere, banned): go on as an anonymous visitor,
      // so public pages still load and others say why they cannot.
      if (current === null) return send(method, path, options);
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
export const del = (/** @type {string} */ path, /** @type {unknown} */ json = undefined) =>
  request("DELETE", path, { json });

/** `?a=1&b=2` from an object, leaving out empty values. */
export function query(/** @type {Record<string, unknown>} */ params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  return search.size ? `?${search}` : "";
}

export async function logIn(/** @type {string} */ email, /** @type {string} */ password) {
  const tokens = tokensFrom(await send("POST", "/auth/login", { json: { email, password } }, false));
  sessionStorage.setItem(SESSION_KEY, newKey());
  sessionStorage.removeItem(ENDED_KEY);
  keep(tokens);
  setUser(await get("/users/me"));
}

/** Reads the signed-in user again, after a change the API made to them (a verified address). */
export async function reloadUser() {
  if (currentUser) setUser(await get("/users/me"));
}

export async function logOut() {
  try {
    if (current) await send("POST", "/auth/logout");
  } finally {
    endEverywhere(sessionStorage.getItem(SESSION_KEY));
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
    // A session the API ended, or whose new pair no other tab had, is already forgotten by
    // refresh(). Any other failure keeps the refresh token: the server may be out of reach for
    // a moment, or this page is being reloaded, which aborts its requests, and forgetting the
    // token now would log out the page that replaces this one.
  }
}

/** A random Idempotency-Key; randomUUID needs a secure context, getRandomValues does not. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

function hex(/** @type {Uint8Array} */ bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
