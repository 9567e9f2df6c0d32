// Public pages: the list of events with search and filters, and one event with booking.

import * as api from "../api.js";
import { act, field, formatTime, formValues, h, heading, pager, saveFile, statusBadge, statusLine } from "../dom.js";
import { poll, seatsLeft } from "./common.js";

const PAGE_SIZE = 10;
const POLL_SECONDS = 15;

/**
 * @typedef {object} Event
 * @property {number} id
 * @property {number} organizer_id
 * @property {string} organizer_name
 * @property {string} title
 * @property {string | null} description
 * @property {string} location
 * @property {string} timezone
 * @property {string} starts_at
 * @property {string | null} ends_at
 * @property {string} status
 * @property {number} capacity
 * @property {number} seats_available
 * @property {number} waitlist_count
 */

// Dates in the filter are whole days in the browser's zone; the API wants instants.
const startOfDay = (/** @type {string} */ day) => new Date(`${day}T00:00`).toISOString();
const endOfDay = (/** @type {string} */ day) => new Date(new Date(`${day}T00:00`).getTime() + 86_400_000).toISOString();

/** The search form: a plain GET form, so its fields become the URL's query (see router.js). */
function searchForm(/** @type {URLSearchParams} */ query) {
  const value = (/** @type {string} */ name) => query.get(name) || "";
  return h(
    "form",
    { class: "filters", role: "search", method: "get", action: "/" },
    field("Search", h("input", { name: "q", type: "search", value: value("q"), maxlength: 200 })),
    field("Location", h("input", { name: "location", value: value("location"), maxlength: 200 })),
    field("From", h("input", { name: "from", type: "date", value: value("from") })),
    field("To", h("input", { name: "to", type: "date", value: value("to") })),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Search"),
      h("a", { href: "/", class: "button" }, "Clear"),
    ),
  );
}

function eventCard(/** @type {Event} */ event) {
  return h(
    "li",
    { class: "card" },
    h("h2", {}, h("a", { href: `/events/${event.id}` }, event.title)),
    h("p", { class: "meta" }, formatTime(event.starts_at, event.timezone), " · ", event.location),
    h("p", { class: "seats", "data-seats-for": event.id }, seatsLeft(event)),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function listPage({ query, onLeave }) {
  const from = query.get("from");
  const to = query.get("to");
  const params = {
    q: query.get("q"),
    location: query.get("location"),
    starts_after: from && startOfDay(from),
    starts_before: to && endOfDay(to),
    limit: PAGE_SIZE,
    offset: Number(query.get("offset")) || 0,
  };
  const path = `/events${api.query(params)}`;
  /** @type {{items: Event[], total: number, limit: number, offset: number}} */
  const page = await api.get(path);
  const list = h("ul", { class: "cards", "aria-label": "Events" }, page.items.map(eventCard));

  // Seats change while people book: refresh the counts in place, keeping focus where it is.
  poll(onLeave, POLL_SECONDS, async () => {
    /** @type {{items: Event[]}} */
    const fresh = await api.get(path);
    for (const event of fresh.items) {
      const line = list.querySelector(`[data-seats-for="${event.id}"]`);
      if (line) line.textContent = seatsLeft(event);
    }
  });

  const searching = ["q", "location", "from", "to"].some((name) => query.get(name));
  const empty = h("p", {}, searching ? "No upcoming events match your search." : "There are no upcoming events yet.");
  return h("section", {}, heading("Upcoming events"), searchForm(query), page.total ? list : empty, pager(page));
}

/**
 * @typedef {{event_id: number, status: string, seats: number, waitlist_position: number | null, ticket_code: string}} Booking
 */

async function ownBooking(/** @type {number} */ eventId) {
  /** @type {{items: Booking[]}} */
  const mine = await api.get(`/bookings/me${api.query({ limit: 100 })}`);
  return mine.items.find((b) => b.event_id === eventId && b.status !== "cancelled") || null;
}

function describeBooking(/** @type {Booking} */ booking) {
  if (booking.status === "waitlisted") {
    return `You are number ${booking.waitlist_position} on the waiting list for ${booking.seats} seat${booking.seats > 1 ? "s" : ""}.`;
  }
  return `You have ${booking.seats} seat${booking.seats > 1 ? "s" : ""} booked. Ticket code ${booking.ticket_code}.`;
}

/**
 * @param {Event} event
 * @param {HTMLElement} yourBooking where the booking made here is described
 * @param {() => Promise<void>} refreshSeats
 */
function bookingForm(event, yourBooking, refreshSeats) {
  const seats = h(
    "select",
    { name: "seats" },
    Array.from({ length: 10 }, (_, i) => h("option", { value: i + 1 }, String(i + 1))),
  );
  const button = h("button", { type: "submit", class: "primary" }, "Book");
  const line = statusLine("booking");
  // One key per intended booking: a repeated click or a retry after a lost answer books once.
  let key = api.newKey();
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const values = formValues(/** @type {HTMLFormElement} */ (submitted.currentTarget));
    act(button, line, async () => {
      const body = { event_id: event.id, seats: Number(values.seats), join_waitlist: "join_waitlist" in values };
      const booking = await api.post("/bookings", body, { headers: { "Idempotency-Key": key } });
      key = api.newKey();
      yourBooking.textContent = describeBooking(booking);
      await refreshSeats();
      return booking.status === "waitlisted"
        ? "You joined the waiting list."
        : "Booked. Your ticket is under My bookings.";
    });
  };
  return h(
    "form",
    { class: "booking", onsubmit },
    h("h2", {}, "Book seats"),
    field("Seats", seats),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "join_waitlist" }),
      " Join the waiting list if there are not enough seats",
    ),
    button,
    line,
  );
}

function bookingPart(/** @type {Event} */ event) {
  const user = api.user();
  if (!user) {
    return h(
      "p",
      {},
      h("a", { href: `/login?next=/events/${event.id}` }, "Log in"),
      " or ",
      h("a", { href: "/signup" }, "sign up"),
      " to book.",
    );
  }
  if (user.role !== "attendee") {
    const manage = event.organizer_id === user.id || user.role === "admin";
    return h(
      "p",
      {},
      "Bookings are made by attendee accounts.",
      manage ? [" ", h("a", { href: `/organizer/events/${event.id}/guests` }, "See the guest list")] : null,
    );
  }
  return null;
}

/** @param {import("../router.js").PageContext} context */
export async function eventPage({ params, onLeave }) {
  const id = Number(params.id);
  /** @type {Event} */
  const event = await api.get(`/events/${id}`);
  const seats = h("p", { class: "seats" }, seatsLeft(event));
  const refreshSeats = async () => {
    seats.textContent = seatsLeft(await api.get(`/events/${id}`));
  };
  poll(onLeave, POLL_SECONDS, refreshSeats);

  const calendarLine = statusLine("calendar");
  const calendar = h(
    "button",
    {
      type: "button",
      onclick: () =>
        act(calendar, calendarLine, async () => {
          saveFile(await api.get(`/events/${id}/calendar.ics`), `event-${id}.ics`);
        }),
    },
    "Add to calendar (.ics)",
  );

  const yourBooking = h("p", { class: "your-booking", role: "status", "aria-live": "polite" });
  /** @type {Node | null | false} */
  let booking = bookingPart(event);
  if (!booking) {
    const existing = await ownBooking(id);
    if (existing) yourBooking.textContent = describeBooking(existing);
    booking = existing
      ? h("p", {}, h("a", { href: "/bookings" }, "See or cancel it under My bookings"))
      : event.status === "published" && bookingForm(event, yourBooking, refreshSeats);
  }

  const zone = event.timezone;
  return h(
    "article",
    { class: "event" },
    heading(event.title),
    h("p", {}, statusBadge(event.status)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Starts"),
      h("dd", {}, formatTime(event.starts_at, zone)),
      event.ends_at && [h("dt", {}, "Ends"), h("dd", {}, formatTime(event.ends_at, zone))],
      h("dt", {}, "Where"),
      h("dd", {}, event.location),
      h("dt", {}, "Organizer"),
      h("dd", {}, event.organizer_name),
    ),
    event.description && h("p", { class: "description" }, event.description),
    seats,
    yourBooking,
    booking,
    h("p", {}, calendar),
    calendarLine,
  );
}
