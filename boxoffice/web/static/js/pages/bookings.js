// An attendee's bookings: status, what each holds, the party's code and every ticket's QR code,
// cancel; a pending booking's way to its page to pay, a waiting-list offer to accept or decline.

import * as api from "../api.js";
import { act, formatTime, h, heading, pager, statusBadge, statusLine } from "../dom.js";
import { bookingDetails, bookingPath, holdEnded, offerActions, requireRole } from "./common.js";

const PAGE_SIZE = 10;

/** @typedef {import("./common.js").Booking} Booking */

/**
 * The booking's event summary has no time zone; the event itself does (unless it was deleted).
 * @param {Booking[]} bookings
 */
async function timeZones(bookings) {
  const ids = [...new Set(bookings.map((b) => b.event_id))];
  const zones = await Promise.all(
    ids.map((id) =>
      api.get(`/events/${id}`).then(
        (event) => String(event.timezone),
        () => "UTC",
      ),
    ),
  );
  return new Map(ids.map((id, i) => [id, zones[i]]));
}

/**
 * Where a hold stands: until when it lasts, or that it has ended.
 * @param {Booking} booking
 * @param {string} zone
 */
function holdLine(booking, zone) {
  if (holdEnded(booking)) return h("p", { class: "deadline-line" }, "The hold has ended: the seats went back on sale.");
  if (!booking.expires_at) return null;
  const until = formatTime(booking.expires_at, zone);
  if (booking.status === "pending") return h("p", { class: "deadline-line" }, "Pay by ", h("strong", {}, until));
  if (booking.status === "offered") {
    return h("p", { class: "deadline-line" }, "Seats offered to you until ", h("strong", {}, until));
  }
  return null;
}

async function bookingCard(/** @type {Booking} */ booking, /** @type {string} */ zone) {
  const ended = holdEnded(booking);
  const status = ended ? "expired" : booking.status;
  const line = statusLine(`booking-${booking.id}`);
  const cancelBooking = () => {
    if (!confirm(`Cancel your booking for ${booking.event.title}?`)) return;
    act(
      cancel,
      line,
      async () => {
        await api.del(`/bookings/${booking.id}`);
        return "Booking cancelled.";
      },
      { andRefresh: true },
    );
  };
  const cancel = h("button", { type: "button", class: "danger", onclick: cancelBooking }, "Cancel booking");
  const pay = h(
    "a",
    { href: bookingPath(booking.id), class: "button primary", "aria-label": `Pay: ${booking.event.title}` },
    "Pay",
  );
  const plural = booking.seats > 1 ? "s" : "";
  return h(
    "li",
    { class: "card booking-card" },
    h("h2", {}, h("a", { href: `/events/${booking.event_id}` }, booking.event.title)),
    h("p", { class: "meta" }, formatTime(booking.event.starts_at, zone), " · ", booking.event.location),
    h(
      "p",
      {},
      statusBadge(status),
      ` ${booking.seats} seat${plural}`,
      booking.status === "waitlisted" ? ` · number ${booking.waitlist_position} on the waiting list` : "",
      booking.checked_in_at ? " · checked in" : "",
    ),
    holdLine(booking, zone),
    await bookingDetails(booking),
    status === "offered" && offerActions(booking, line),
    ["pending", "confirmed", "waitlisted"].includes(status) &&
      h("div", { class: "row-actions" }, status === "pending" && pay, cancel),
    line,
  );
}

/** @param {import("../router.js").PageContext} context */
export async function myBookingsPage({ query }) {
  const [, refused] = requireRole("attendee");
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  /** @type {{items: Booking[], total: number, limit: number, offset: number}} */
  const page = await api.get(`/bookings/me${api.query({ limit: PAGE_SIZE, offset })}`);
  const zones = await timeZones(page.items);
  const cards = await Promise.all(page.items.map((b) => bookingCard(b, zones.get(b.event_id) || "UTC")));
  return h(
    "section",
    {},
    heading("My bookings"),
    page.total
      ? h("ul", { class: "cards", "aria-label": "Bookings" }, cards)
      : h("p", {}, "No bookings yet. ", h("a", { href: "/" }, "Find an event"), "."),
    pager(page),
  );
}
