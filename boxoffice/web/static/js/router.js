// History-API routing: every page is a real URL (the server answers each with the same shell),
// so reload, back and shared links land on the same page.

const routes = [];
const shown = new Set();
let leaving = [];
let renderCount = 0;

/** route("/events/:id", render): render({params, query, onLeave}) returns the page's content. */
export function route(pattern, render) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  routes.push({ regex: new RegExp(`^${source}$`), names, render });
}

/** Called after every page change, e.g. to mark the current page in the navigation. */
export function afterShow(listener) {
  shown.add(listener);
}

/** Goes to a page; `flash` is a message that page shows once (e.g. "Saved."). */
export function navigate(url, { replace = false, flash = null } = {}) {
  if (replace) history.replaceState({ flash }, "", url);
  else history.pushState({ flash }, "", url);
  return show();
}

let shownUrl = null;

async function show() {
  const main = document.getElementById("main");
  const current = ++renderCount;
  shownUrl = location.pathname + location.search;
  for (const cleanup of leaving) cleanup();
  leaving = [];
  const found = match(location.pathname);
  const context = {
    params: found.params,
    query: new URLSearchParams(location.search),
    onLeave: (cleanup) => leaving.push(cleanup),
    flash: history.state?.flash || null,
  };
  if (context.flash) history.replaceState({ flash: null }, "", location.href);
  let content;
  try {
    content = await found.render(context);
  } catch (error) {
    content = await fallbackPage({ ...context, error });
  }
  if (current !== renderCount) return; // a later navigation won the race
  main.replaceChildren(content);
  for (const listener of shown) listener();
  (main.querySelector("h1") || main).focus();
}

function match(path) {
  for (const { regex, names, render } of routes) {
    const found = regex.exec(path);
    if (found) {
      const params = Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { render, params };
    }
  }
  return { render: fallbackPage, params: {} };
}

let fallbackPage = () => document.createTextNode("There is no such page.");

/** The page for an unknown URL ({error} undefined) or a page that failed to load. */
export function fallback(render) {
  fallbackPage = render;
}

/** Same-origin links to pages are followed without a reload; API links and downloads are not. */
export function start() {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (!link || event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href, location.href);
    const isPage = url.origin === location.origin && !url.pathname.startsWith("/api/") && !url.pathname.startsWith("/docs");
    if (!isPage || link.hasAttribute("download") || link.target || (url.hash && url.pathname === location.pathname)) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
  // Following an in-page link (the skip link) changes only the hash: nothing to render.
  window.addEventListener("popstate", () => {
    if (location.pathname + location.search !== shownUrl) show();
  });
  return show();
}
