// An attendee's bookings: status, what each holds, the party's code and every ticket's QR code, cancel.

import * as api from "../api.js";
import { act, formatTime, h, heading, pager, statusBadge, statusLine } from "../dom.js";
import { bookingDetails, requireRole } from "./common.js";

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

async function bookingCard(/** @type {Booking} */ booking, /** @type {string} */ zone) {
  const active = booking.status !== "cancelled";
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
  const plural = booking.seats > 1 ? "s" : "";
  return h(
    "li",
    { class: "card booking-card" },
    h("h2", {}, h("a", { href: `/events/${booking.event_id}` }, booking.event.title)),
    h("p", { class: "meta" }, formatTime(booking.event.starts_at, zone), " · ", booking.event.location),
    h(
      "p",
      {},
      statusBadge(booking.status),
      ` ${booking.seats} seat${plural}`,
      booking.status === "waitlisted" ? ` · number ${booking.waitlist_position} on the waiting list` : "",
      booking.checked_in_at ? " · checked in" : "",
    ),
    await bookingDetails(booking),
    active && cancel,
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
