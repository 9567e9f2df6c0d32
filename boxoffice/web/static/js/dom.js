// Small helpers to build the DOM from elements and text nodes (no text is ever parsed as markup),
// show API errors where the person acted, and format times in an event's own time zone.

import { ApiError } from "./api.js";
import { refresh } from "./router.js";

/** @typedef {string | Node | null | undefined | false} Leaf */
/** @typedef {Leaf | Leaf[] | Leaf[][]} Child a node, text, nothing, or lists of them */

/**
 * h("button", {type: "submit", onclick}, "Save") -> a button element.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, unknown>} [attrs] `on…` adds a listener; false, null or undefined leaves it out
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), /** @type {EventListener} */ (value));
    else if (name === "class") element.className = String(value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  const nodes = /** @type {Leaf[]} */ (children.flat(Infinity));
  element.append(...nodes.filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

let fieldCount = 0;

/** A form field with its label (and hint) tied to the control by id. */
export function field(
  /** @type {string} */ label,
  /** @type {HTMLElement} */ control,
  /** @type {string} */ hint = "",
) {
  control.id ||= `field-${++fieldCount}`;
  const hintLine = hint && h("span", { class: "hint", id: `${control.id}-hint` }, hint);
  if (hintLine) control.setAttribute("aria-describedby", hintLine.id);
  return h("div", { class: "field" }, h("label", { class: "label", for: control.id }, label), control, hintLine);
}

/**
 * The form's fields by name (a checkbox is there only when checked), as typed.
 * @returns {Record<string, string>}
 */
export function formValues(/** @type {HTMLFormElement} */ form) {
  /** @type {Record<string, string>} */
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value === "string") values[name] = value;
  }
  return values;
}

/**
 * A live region next to a control: API errors and outcomes are announced where they happen.
 * `key` names it on its page, so that a refresh() keeps what it says.
 */
export function statusLine(/** @type {string} */ key, /** @type {string | null} */ text = null) {
  return h(
    "p",
    {
      class: text ? "status ok" : "status",
      id: `status-${key}`,
      role: "status",
      "aria-live": "polite",
      tabindex: "-1",
    },
    text,
  );
}

export function say(/** @type {HTMLElement} */ line, /** @type {string} */ text, kind = "ok") {
  line.textContent = text;
  line.className = `status ${kind}`;
}

/**
 * Runs one API action for a button: the button is disabled while it runs (so a double click
 * sends one request), what `work` returns or any API error's detail appears in the status
 * line; with `andRefresh` the page then shows the new state of things (see refresh()).
 * @param {HTMLButtonElement} button
 * @param {HTMLElement} line
 * @param {() => Promise<string | void>} work
 * @param {{andRefresh?: boolean}} [options]
 */
export async function act(button, line, work, { andRefresh = false } = {}) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  say(line, "", "ok");
  try {
    say(line, (await work()) || "", "ok");
    if (andRefresh) await refresh();
  } catch (error) {
    say(line, error instanceof ApiError ? error.detail : String(error), "error");
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A page's heading; focused after navigation so screen readers announce the new page. */
export function heading(/** @type {string} */ text) {
  document.title = `${text} · boxoffice`;
  return h("h1", { tabindex: "-1" }, text);
}

/**
 * A table; on a phone its rows become stacked cards (see app.css), each cell labelled with its
 * column's header, and whatever still does not fit scrolls inside a focusable region.
 * @param {string} caption
 * @param {string[]} headers
 * @param {HTMLTableRowElement[]} rows
 */
export function table(caption, headers, rows) {
  for (const row of rows) {
    [...row.children].forEach((cell, i) => {
      cell.setAttribute("data-label", headers[i]);
    });
  }
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h(
      "table",
      { class: "stack" },
      h("caption", {}, caption),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((text) => h("th", { scope: "col" }, text)),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

export function formatTime(/** @type {string} */ iso, /** @type {string} */ timeZone) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(new Date(iso));
}

/**
 * "Previous / Next" links for a list answer: this URL with another `offset`.
 * @param {{total: number, limit: number, offset: number}} page
 */
export function pager(page) {
  if (page.offset === 0 && page.total <= page.limit) return null;
  const last = Math.min(page.offset + page.limit, page.total);
  const at = (/** @type {number} */ offset) => {
    const query = new URLSearchParams(location.search);
    if (offset > 0) query.set("offset", String(offset));
    else query.delete("offset");
    return query.size ? `?${query}` : location.pathname;
  };
  const previous = page.offset > 0 && h("a", { href: at(Math.max(page.offset - page.limit, 0)) }, "Previous");
  const next = last < page.total && h("a", { href: at(page.offset + page.limit) }, "Next");
  const where = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "none";
  return h("nav", { class: "pager", "aria-label": "Pages" }, previous, h("span", {}, where), next);
}

/** Saves an API answer (a Blob) as a file the browser downloads. */
export function saveFile(/** @type {Blob} */ blob, /** @type {string} */ filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function statusBadge(/** @type {string} */ status) {
  return h("span", { class: `badge badge-${status}` }, status);
}
