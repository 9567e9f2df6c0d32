// History-API routing: every page is a real URL (the server answers each with the same shell),
// so reload, back and shared links land on the same page. A page may belong to a document of
// its own (the checkout, whose Content-Security-Policy differs: see boxoffice/web/router.py);
// going into or out of it is a full page load, so each page runs under its own document's policy.

/**
 * @typedef {object} PageContext
 * @property {Record<string, string>} params the URL's path parameters, e.g. {id: "7"}
 * @property {URLSearchParams} query
 * @property {(cleanup: () => void) => void} onLeave called when the page is left or drawn again
 * @property {string | null} flash a message the page shows once (e.g. "Saved.")
 * @property {unknown} [error] for the fallback page: why the page could not be shown
 */

/** @typedef {(context: PageContext) => Node | Promise<Node>} Page */

/** The document of the pages not marked otherwise in pages.json. */
const SHELL = "shell";
// A message for the page after a full load (to another document), which history.state cannot carry.
const FLASH_KEY = "boxoffice.flash";

/** @type {{regex: RegExp, names: string[], render: Page, documentName: string}[]} */
const routes = [];
/** @type {Set<() => void>} */
const shown = new Set();
/** @type {(() => void)[]} */
let leaving = [];
let renderCount = 0;
/** @type {string | null} */
let shownUrl = null;
/** @type {{render: Page, context: PageContext} | null} */
let current = null;

/** @type {Page} */
let fallbackPage = () => document.createTextNode("There is no such page.");
/** The document this page was loaded as; set by start(). */
let loaded = SHELL;

/**
 * route("/events/{id}", render): render(context) returns the page's content.
 * @param {string} pattern
 * @param {Page} render
 * @param {string} [documentName] the document the page belongs to
 */
export function route(pattern, render, documentName = SHELL) {
  /** @type {string[]} */
  const names = [];
  const source = pattern.replace(/\{(\w+)\}/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}$`), names, render, documentName });
}

/** The page for an unknown URL ({error} undefined) or a page that failed to load. */
export function fallback(/** @type {Page} */ render) {
  fallbackPage = render;
}

/** Called after every page change, e.g. to mark the current page in the navigation. */
export function afterShow(/** @type {() => void} */ listener) {
  shown.add(listener);
}

/**
 * Goes to a page; `flash` is a message that page shows once (e.g. "Saved.").
 * @param {string} url
 * @param {{replace?: boolean, flash?: string | null}} [options]
 */
export function navigate(url, { replace = false, flash = null } = {}) {
  if (match(new URL(url, location.href).pathname).documentName !== loaded) {
    if (flash) sessionStorage.setItem(FLASH_KEY, flash);
    if (replace) location.replace(url);
    else location.assign(url);
    return Promise.resolve();
  }
  if (replace) history.replaceState({ flash }, "", url);
  else history.pushState({ flash }, "", url);
  return show();
}

function main() {
  return /** @type {HTMLElement} */ (document.getElementById("main"));
}

/** The page's content, or the fallback's when it fails; null if a later render overtook it. */
async function draw(/** @type {Page} */ render, /** @type {PageContext} */ context) {
  const ticket = ++renderCount;
  for (const cleanup of leaving) cleanup();
  leaving = [];
  current = { render, context };
  let content;
  try {
    content = await render(context);
  } catch (error) {
    content = await fallbackPage({ ...context, error });
  }
  return ticket === renderCount ? content : null;
}

async function show() {
  shownUrl = location.pathname + location.search;
  const found = match(location.pathname);
  const flash = history.state?.flash || sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  if (flash) history.replaceState({ flash: null }, "", location.href);
  /** @type {PageContext} */
  const context = {
    params: found.params,
    query: new URLSearchParams(location.search),
    onLeave: (cleanup) => leaving.push(cleanup),
    flash,
  };
  const content = await draw(found.render, context);
  if (!content) return;
  main().replaceChildren(content);
  for (const listener of shown) listener();
  /** @type {HTMLElement} */ (main().querySelector("h1") || main()).focus();
}

/**
 * Draws the current page again with fresh data, in place: the status messages it showed stay,
 * so do the disclosures (`<details id>`) that were open, and the focus (on the same control, or
 * else on the message that tells what happened).
 */
export async function refresh() {
  if (!current) return;
  const messages = [...main().querySelectorAll(".status[id]")]
    .filter((line) => line.textContent)
    .map((line) => ({ id: line.id, text: line.textContent, kind: line.className }));
  const open = [...main().querySelectorAll("details[id][open]")].map((details) => details.id);
  const active = document.activeElement;
  const focused = active instanceof HTMLElement && main().contains(active) ? identity(active) : null;
  const content = await draw(current.render, { ...current.context, flash: null });
  if (!content) return;
  main().replaceChildren(content);
  for (const id of open) document.getElementById(id)?.setAttribute("open", "");
  const restored = [];
  for (const { id, text, kind } of messages) {
    const line = document.getElementById(id);
    if (!line) continue;
    line.textContent = text;
    line.className = kind;
    restored.push(line);
  }
  const controls = main().querySelectorAll("a, button, input, select, textarea, [tabindex]");
  const same = focused && [...controls].find((element) => identity(element) === focused);
  /** @type {HTMLElement | null} */ (same || restored[0] || main().querySelector("h1"))?.focus();
}

// What makes a control the same one after the page is drawn again (ids of fields are not kept).
function identity(/** @type {Element} */ element) {
  const name = element.getAttribute("name") || element.getAttribute("aria-label") || element.textContent?.trim();
  return `${element.tagName}:${name}`;
}

/** @returns {{render: Page, params: Record<string, string>, documentName: string}} */
function match(/** @type {string} */ path) {
  for (const { regex, names, render, documentName } of routes) {
    const found = regex.exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { render, params, documentName };
    }
  }
  return { render: fallbackPage, params: {}, documentName: SHELL };
}

/** A search form (method="get") goes to its URL with the non-empty fields as the query. */
function submitted(/** @type {SubmitEvent} */ event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.getAttribute("method") !== "get" || event.defaultPrevented) return;
  event.preventDefault();
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string" && value.trim()) query.set(name, value.trim());
  }
  const { pathname } = new URL(form.action);
  navigate(query.size ? `${pathname}?${query}` : pathname);
}

/** Same-origin links to pages are followed without a reload; API links and downloads are not. */
function clicked(/** @type {MouseEvent} */ event) {
  const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
  if (!(link instanceof HTMLAnchorElement) || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  const isPage =
    url.origin === location.origin && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/docs");
  if (!isPage || link.hasAttribute("download") || link.target || (url.hash && url.pathname === location.pathname)) {
    return;
  }
  event.preventDefault();
  navigate(url.pathname + url.search);
}

export function start() {
  loaded = match(location.pathname).documentName;
  document.addEventListener("click", clicked);
  document.addEventListener("submit", submitted);
  // Following an in-page link (the skip link) changes only the hash: nothing to render.
  window.addEventListener("popstate", () => {
    if (location.pathname + location.search !== shownUrl) show();
  });
  return show();
}
