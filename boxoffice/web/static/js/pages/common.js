// Pieces several pages share.

import * as api from "../api.js";
import { act, formatTime, h, heading } from "../dom.js";
import { navigate } from "../router.js";

/**
 * @typedef {object} TicketType
 * @property {number} id
 * @property {number} event_id
 * @property {string} name
 * @property {string} description
 * @property {string} price a decimal string in the event's currency, e.g. "12.50"
 * @property {number} min_per_booking
 * @property {number} max_per_booking
 * @property {string | null} sale_starts_at
 * @property {string | null} sale_ends_at
 * @property {boolean} hidden
 * @property {string | null} [access_code] owner and admins only
 * @property {number} position
 * @property {number[]} quota_ids
 * @property {number} seats_available
 */

/** @typedef {{ticket_type_id: number, name: string, quantity: number, unit_price: string}} Line */

/**
 * @typedef {object} Booking
 * @property {number} id
 * @property {number} event_id
 * @property {{title: string, starts_at: string, location: string}} event
 * @property {string} status
 * @property {string | null} expires_at until when a pending booking or an offer holds its seats
 * @property {number} seats
 * @property {number | null} waitlist_position
 * @property {string} ticket_code the party's code: it admits everyone on the booking
 * @property {string | null} checked_in_at
 * @property {Line[]} lines
 * @property {string} total_price
 * @property {string} currency
 * @property {{code: string, ticket_type_id: number, checked_in_at: string | null}[]} tickets one per seat
 */

/**
 * A booking's page, where its holder pays or answers an offer (messages link there too); a page
 * of a document of its own (see router.js).
 */
export function bookingPath(/** @type {number} */ bookingId) {
  return `/bookings/${bookingId}`;
}

/**
 * Whether a booking's hold is over: expired, or pending or offered past its end, which the
 * server says as soon as it sweeps (within seconds) but never sells against meanwhile.
 * @param {Booking} booking
 */
export function holdEnded(booking) {
  if (booking.status === "expired") return true;
  const holding = booking.status === "pending" || booking.status === "offered";
  return holding && booking.expires_at !== null && Date.parse(booking.expires_at) <= Date.now();
}

/** `/login?next=` back to this page. */
function logInHere() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** The log-in page, saying the session has ended; that navigation overtakes this render. */
function sessionEnded() {
  navigate(logInHere(), { replace: true, flash: "Your session has ended; please log in again." });
  return h("p", {}, "Please log in.");
}

/**
 * Unknown URLs, and pages whose data could not be loaded (the API's detail is shown).
 * @param {import("../router.js").PageContext} context
 */
export function failedPage({ error }) {
  if (!error) {
    return h(
      "section",
      {},
      heading("Page not found"),
      h("p", {}, "There is no such page. ", h("a", { href: "/" }, "See all events"), "."),
    );
  }
  if (error instanceof api.ApiError && error.status === 401 && !api.user()) {
    // The session ended while this tab held it (banned, logged out elsewhere): log in again
    // and come back here.
    api.takeSessionEnd();
    return sessionEnded();
  }
  const detail = error instanceof api.ApiError ? error.detail : String(error);
  return h(
    "section",
    {},
    heading(error instanceof api.ApiError && error.status === 404 ? "Not found" : "Something went wrong"),
    h("p", { class: "status error", role: "alert" }, detail),
    h("p", {}, h("a", { href: "/" }, "Back to the events")),
  );
}

/**
 * The logged-in user if their role may see this page; otherwise a page that says what to do.
 * @param {...api.User["role"]} roles
 * @returns {[api.User, null] | [null, HTMLElement]}
 */
export function requireRole(...roles) {
  const user = api.user();
  // The session this tab held ended (logged out in another tab, say): the log-in page says so.
  if (!user && api.takeSessionEnd()) return [null, sessionEnded()];
  if (!user) {
    return [
      null,
      h(
        "section",
        {},
        heading("Please log in"),
        h(
          "p",
          {},
          h("a", { href: logInHere() }, "Log in"),
          " to see this page, or ",
          h("a", { href: "/signup" }, "sign up"),
          ".",
        ),
      ),
    ];
  }
  if (!roles.includes(user.role)) {
    const refusal = `This page is for ${roles.join(" and ")} accounts; you are logged in as ${user.role}.`;
    return [null, h("section", {}, heading("Not available"), h("p", {}, refusal))];
  }
  return [user, null];
}

/**
 * Accept and Decline for a waiting-list offer. Accepting one with a price makes it pending: its
 * page, where it is paid, is shown.
 * @param {Booking} booking
 * @param {HTMLElement} line
 */
export function offerActions(booking, line) {
  const title = booking.event.title;
  const free = isFree(booking.total_price);
  const here = location.pathname === bookingPath(booking.id);
  const accept = async () => {
    await api.post(`/bookings/${booking.id}/accept`);
    if (!free && !here) await navigate(bookingPath(booking.id));
    return free ? "Offer accepted: your booking is confirmed." : "Offer accepted: pay to keep the seats.";
  };
  const decline = async () => {
    await api.post(`/bookings/${booking.id}/decline`);
    return "Offer declined: the seats go to the next in line.";
  };
  const acceptButton = h(
    "button",
    {
      type: "button",
      class: "primary",
      "aria-label": `Accept: ${title}`,
      // Another page goes on to the booking's: nothing to draw again there.
      onclick: () => act(acceptButton, line, accept, { andRefresh: free || here }),
    },
    "Accept",
  );
  const declineButton = h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": `Decline: ${title}`,
      onclick: () => {
        if (confirm(`Decline the seats offered for ${title}? They go to the next in line.`)) {
          act(declineButton, line, decline, { andRefresh: true });
        }
      },
    },
    "Decline",
  );
  return h("div", { class: "row-actions" }, acceptButton, declineButton);
}

/**
 * Refreshes while the tab is visible; stops when the page is left.
 * @param {(cleanup: () => void) => void} onLeave
 * @param {number} seconds
 * @param {() => Promise<void>} work
 */
export function poll(onLeave, seconds, work) {
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") work().catch(() => {});
  }, seconds * 1000);
  onLeave(() => clearInterval(timer));
}

/** @typedef {{tickets: number, checked_in: number, inside: number}} Counts a check-in list's */

const COUNT = new Intl.NumberFormat();

/**
 * A list's counts as three figures; `data-count` marks each, so that they refresh in place.
 * @param {Counts} counts
 */
export function countFigures(counts) {
  /** @param {string} label @param {keyof Counts} name */
  const figure = (label, name) =>
    h(
      "div",
      { class: "door-count" },
      h("dt", {}, label),
      h("dd", { class: "figure", "data-count": name }, COUNT.format(counts[name])),
    );
  return h(
    "dl",
    { class: "door-counts" },
    figure("Inside now", "inside"),
    figure("Checked in", "checked_in"),
    figure("Tickets", "tickets"),
  );
}

/** Puts new counts into figures made by countFigures(). */
export function showCounts(/** @type {Element} */ figures, /** @type {Counts} */ counts) {
  for (const [name, value] of Object.entries(counts)) {
    const figure = figures.querySelector(`[data-count="${name}"]`);
    if (figure) figure.textContent = COUNT.format(value);
  }
}

/** @param {{status: string, seats_available: number, capacity: number, waitlist_count: number}} event */
export function seatsLeft(event) {
  if (event.status !== "published") return event.status;
  if (event.seats_available > 0) return `${event.seats_available} of ${event.capacity} seats left`;
  return event.waitlist_count ? `sold out · ${event.waitlist_count} waiting` : "sold out";
}

/** "12.50" in EUR -> "€12.50", in the reader's locale; the amount is never turned into a float. */
export function money(/** @type {string} */ amount, /** @type {string} */ currency) {
  const format = new Intl.NumberFormat(undefined, { style: "currency", currency });
  return format.format(/** @type {`${number}`} */ (amount));
}

/** Whether a decimal string is nothing: "0.00", "0". */
export function isFree(/** @type {string} */ amount) {
  return /^0*\.?0*$/.test(amount);
}

/** A price as a person reads it: "free" for nothing. */
export function priceText(/** @type {string} */ amount, /** @type {string} */ currency) {
  return isFree(amount) ? "free" : money(amount, currency);
}

/**
 * Σ quantity × price, added up in whole minor units ("12.50" is 1250 cents): the API gives each
 * price with its currency's digits, so the sum is exact and goes back out as a decimal string.
 * @param {{quantity: number, price: string}[]} items
 */
export function total(items) {
  const digits = Math.max(0, ...items.map(({ price }) => (price.split(".")[1] || "").length));
  let minor = 0;
  for (const { quantity, price } of items) {
    const [whole, fraction = ""] = price.split(".");
    minor += quantity * Number(whole + fraction.padEnd(digits, "0"));
  }
  const text = String(minor).padStart(digits + 1, "0");
  return digits ? `${text.slice(0, -digits)}.${text.slice(-digits)}` : text;
}

/**
 * What an attendee can still get of a type: its seats left, or why it is not on sale now.
 * @param {TicketType} type
 * @param {string} timeZone the event's
 * @returns {{onSale: boolean, text: string}}
 */
export function availability(type, timeZone) {
  const now = Date.now();
  if (type.sale_starts_at && Date.parse(type.sale_starts_at) > now) {
    return { onSale: false, text: `on sale from ${formatTime(type.sale_starts_at, timeZone)}` };
  }
  if (type.sale_ends_at && Date.parse(type.sale_ends_at) <= now) return { onSale: false, text: "sale ended" };
  if (type.seats_available <= 0) return { onSale: true, text: "sold out" };
  return { onSale: true, text: `${type.seats_available} left` };
}

/** "2× Adult, 1× Child" */
export function linesText(/** @type {Line[]} */ lines) {
  return lines.map((line) => `${line.quantity}× ${line.name}`).join(", ");
}

/**
 * A QR code needs the bearer token, so it is fetched and shown as a data: URL (the CSP allows those).
 * @param {string} path the API's SVG
 * @param {string} alt
 */
async function qrImage(path, alt) {
  const svg = await api.get(path);
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(svg);
  });
  return h("img", { class: "qr", src: url, width: 160, height: 160, alt });
}

/**
 * A chart the API draws, as an image, or what kept it from loading (its figures are in a table
 * beside it anyway).
 *
 * The chart needs the bearer token, so it is fetched and shown from a data: URL, which the CSP's
 * img-src allows as it does for the QR codes. The SVG is never put into this page's document:
 * a browser runs no script and loads nothing for an SVG shown as an <img>, so a name drawn in it
 * (a ticket type's, a check-in list's) could do nothing here even if the server's escaping ever
 * failed. Its <title> and <desc> stay in the file; an <img> has its alt text instead.
 * @param {string} path the API's SVG
 * @param {string} alt
 * @returns {Promise<HTMLElement>}
 */
export async function chartImage(path, alt) {
  try {
    /** @type {Blob} */
    const svg = await api.get(path, { accept: "image/svg+xml" });
    const src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(await svg.text())}`;
    return h("img", { class: "chart", src, alt, width: 600, height: 300 });
  } catch (error) {
    const detail = error instanceof api.ApiError ? error.detail : String(error);
    return h("p", { class: "status error" }, `The chart could not be shown: ${detail}`);
  }
}

/**
 * What a booking holds: its lines and total, the party's code, and once confirmed a QR code for
 * the whole party and one for each ticket, labelled with its type and code.
 * @param {Booking} booking
 */
export async function bookingDetails(booking) {
  // A hold's code admits nobody until it is paid or accepted: its payment reference is what matters then.
  const active = booking.status === "confirmed" || booking.status === "waitlisted";
  const names = new Map(booking.lines.map((line) => [line.ticket_type_id, line.name]));
  /** @type {HTMLElement[]} */
  let codes = [];
  if (booking.status === "confirmed") {
    const party = qrImage(`/bookings/${booking.id}/ticket.svg`, `QR code of ticket ${booking.ticket_code}`).then(
      (image) => h("figure", { class: "ticket" }, image, h("figcaption", {}, "Whole party · ", booking.ticket_code)),
    );
    const tickets = booking.tickets.map(async (ticket) => {
      const name = names.get(ticket.ticket_type_id) || "Ticket";
      const path = `/bookings/${booking.id}/tickets/${encodeURIComponent(ticket.code)}.svg`;
      const image = await qrImage(path, `QR code of ${name} ticket ${ticket.code}`);
      const caption = h("figcaption", {}, `${name} · `, h("span", { class: "code" }, ticket.code));
      return h("figure", { class: "ticket" }, image, caption);
    });
    codes = await Promise.all([party, ...tickets]);
  }
  return h(
    "div",
    { class: "booking-details" },
    h(
      "ul",
      { class: "lines", "aria-label": "Tickets booked" },
      booking.lines.map((line) =>
        h("li", {}, `${line.quantity}× ${line.name} `, h("span", {}, money(line.unit_price, booking.currency))),
      ),
    ),
    h("p", { class: "total" }, "Total ", priceText(booking.total_price, booking.currency)),
    active && h("p", {}, "Party code ", h("strong", { class: "code party-code" }, booking.ticket_code)),
    codes.length > 0 && h("div", { class: "tickets", role: "group", "aria-label": "Ticket QR codes" }, codes),
  );
}
