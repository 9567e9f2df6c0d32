// An attendee's bookings: status, ticket code and its QR code, cancel.

import * as api from "../api.js";
import { act, formatTime, h, heading, pager, statusBadge, statusLine } from "../dom.js";
import { navigate } from "../router.js";
import { requireRole } from "./common.js";

const PAGE_SIZE = 10;

// The booking's event summary has no time zone; the event itself does (unless it was deleted).
async function timeZones(bookings) {
  const ids = [...new Set(bookings.map((b) => b.event_id))];
  const zones = await Promise.all(ids.map((id) => api.get(`/events/${id}`).then((e) => e.timezone, () => "UTC")));
  return new Map(ids.map((id, i) => [id, zones[i]]));
}

// The QR code needs the bearer token, so it is fetched and shown as a data: URL (the CSP allows those).
async function qrCode(booking) {
  const svg = await api.get(`/bookings/${booking.id}/ticket.svg`);
  const url = await new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(svg);
  });
  return h("img", { class: "qr", src: url, width: 160, height: 160, alt: `QR code of ticket ${booking.ticket_code}` });
}

async function bookingCard(booking, zone, reload) {
  const active = booking.status !== "cancelled";
  const line = statusLine();
  const cancel = active && h("button", { type: "button", class: "danger", onclick: () => {
    if (!confirm(`Cancel your booking for ${booking.event.title}?`)) return;
    act(cancel, line, async () => {
      await api.del(`/bookings/${booking.id}`);
      await reload();
    });
  } }, "Cancel booking");
  return h(
    "li",
    { class: "card booking-card" },
    h("div", {},
      h("h2", {}, h("a", { href: `/events/${booking.event_id}` }, booking.event.title)),
      h("p", { class: "meta" }, formatTime(booking.event.starts_at, zone), " · ", booking.event.location),
      h("p", {}, statusBadge(booking.status), ` ${booking.seats} seat${booking.seats > 1 ? "s" : ""}`,
        booking.status === "waitlisted" ? ` · number ${booking.waitlist_position} on the waiting list` : "",
        booking.checked_in_at ? " · checked in" : ""),
      active && h("p", {}, "Ticket code ", h("strong", { class: "code" }, booking.ticket_code)),
      cancel,
      line,
    ),
    booking.status === "confirmed" ? await qrCode(booking) : null,
  );
}

export async function myBookingsPage({ query }) {
  const [, refused] = requireRole("attendee");
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  const page = await api.get("/bookings/me" + api.query({ limit: PAGE_SIZE, offset }));
  const zones = await timeZones(page.items);
  const reload = () => navigate(location.pathname + location.search, { replace: true });
  const cards = await Promise.all(page.items.map((b) => bookingCard(b, zones.get(b.event_id), reload)));
  return h(
    "section",
    {},
    heading("My bookings"),
    page.total ? h("ul", { class: "cards", "aria-label": "Bookings" }, cards) : h("p", {}, "No bookings yet. ", h("a", { href: "/" }, "Find an event"), "."),
    pager(page, (next) => navigate(`/bookings${api.query({ offset: next || undefined })}`)),
  );
}
