// Small helpers to build the DOM from elements and text nodes (no text is ever parsed as markup),
// show API errors where the person acted, and format times in an event's own time zone.

import { ApiError } from "./api.js";

/** h("button", {type: "submit", onclick}, "Save") -> a button element. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  element.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

let fieldCount = 0;

/** A form field with its label (and hint) tied to the control by id. */
export function field(label, control, hint) {
  control.id ||= `field-${++fieldCount}`;
  const hintLine = hint && h("span", { class: "hint", id: `${control.id}-hint` }, hint);
  if (hintLine) control.setAttribute("aria-describedby", hintLine.id);
  return h("div", { class: "field" }, h("label", { class: "label", for: control.id }, label), control, hintLine);
}

/** A live region next to a control: API errors and outcomes are announced where they happen. */
export function statusLine() {
  return h("p", { class: "status", role: "status", "aria-live": "polite" });
}

export function say(line, text, kind = "ok") {
  line.textContent = text;
  line.className = `status ${kind}`;
}

/**
 * Runs one API action for a button: the button is disabled while it runs (so a double click
 * sends one request) and any API error's detail appears in the status line.
 */
export async function act(button, line, work) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  say(line, "", "ok");
  try {
    const message = await work();
    if (message) say(line, message, "ok");
  } catch (error) {
    say(line, error instanceof ApiError ? error.detail : String(error), "error");
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** A page's heading; focused after navigation so screen readers announce the new page. */
export function heading(text) {
  document.title = `${text} · boxoffice`;
  return h("h1", { tabindex: "-1" }, text);
}

/**
 * A table; on a phone its rows become stacked cards (see app.css), each cell labelled with its
 * column's header, and whatever still does not fit scrolls inside a focusable region.
 */
export function table(caption, headers, rows) {
  for (const row of rows) {
    [...row.children].forEach((cell, i) => cell.setAttribute("data-label", headers[i]));
  }
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h("table", { class: "stack" }, h("caption", {}, caption), h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))), h("tbody", {}, rows)),
  );
}

export function formatTime(iso, timeZone) {
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

/** "Previous / Next" for a list answer {total, limit, offset}; go(offset) shows another page. */
export function pager(page, go) {
  if (page.offset === 0 && page.total <= page.limit) return null;
  const last = Math.min(page.offset + page.limit, page.total);
  const previous = h("button", { type: "button", disabled: page.offset === 0, onclick: () => go(Math.max(page.offset - page.limit, 0)) }, "Previous");
  const next = h("button", { type: "button", disabled: last >= page.total, onclick: () => go(page.offset + page.limit) }, "Next");
  const where = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "none";
  return h("nav", { class: "pager", "aria-label": "Pages" }, previous, h("span", {}, where), next);
}

/** Saves an API answer (a Blob) as a file the browser downloads. */
export function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}
