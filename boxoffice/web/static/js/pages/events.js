// Public pages: the list of events with search and filters, and one event with booking.

import * as api from "../api.js";
import { act, field, formatTime, h, heading, pager, saveFile, statusBadge, statusLine } from "../dom.js";
import { navigate } from "../router.js";
import { poll, seatsLeft } from "./common.js";

const PAGE_SIZE = 10;
const POLL_SECONDS = 15;

// Dates in the filter are whole days in the browser's zone; the API wants instants.
const startOfDay = (day) => new Date(`${day}T00:00`).toISOString();
const endOfDay = (day) => new Date(new Date(`${day}T00:00`).getTime() + 86_400_000).toISOString();

function filtersFrom(query) {
  return {
    q: query.get("q") || "",
    location: query.get("location") || "",
    from: query.get("from") || "",
    to: query.get("to") || "",
    offset: Number(query.get("offset")) || 0,
  };
}

function listUrl(filters) {
  const { q, location, from, to, offset } = filters;
  return "/" + api.query({ q, location, from, to, offset: offset || undefined });
}

function searchForm(filters) {
  const inputs = {
    q: h("input", { name: "q", type: "search", value: filters.q, maxlength: 200 }),
    location: h("input", { name: "location", value: filters.location, maxlength: 200 }),
    from: h("input", { name: "from", type: "date", value: filters.from }),
    to: h("input", { name: "to", type: "date", value: filters.to }),
  };
  const onsubmit = (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value.trim()]));
    navigate(listUrl({ ...values, offset: 0 }));
  };
  return h(
    "form",
    { class: "filters", role: "search", onsubmit },
    field("Search", inputs.q),
    field("Location", inputs.location),
    field("From", inputs.from),
    field("To", inputs.to),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Search"), h("a", { href: "/", class: "button" }, "Clear")),
  );
}

function eventCard(event) {
  return h(
    "li",
    { class: "card" },
    h("h2", {}, h("a", { href: `/events/${event.id}` }, event.title)),
    h("p", { class: "meta" }, formatTime(event.starts_at, event.timezone), " · ", event.location),
    h("p", { class: "seats", "data-seats-for": event.id }, seatsLeft(event)),
  );
}

export async function listPage({ query, onLeave }) {
  const filters = filtersFrom(query);
  const params = {
    q: filters.q,
    location: filters.location,
    starts_after: filters.from && startOfDay(filters.from),
    starts_before: filters.to && endOfDay(filters.to),
    limit: PAGE_SIZE,
    offset: filters.offset,
  };
  const path = "/events" + api.query(params);
  const page = await api.get(path);
  const list = h("ul", { class: "cards", "aria-label": "Events" }, page.items.map(eventCard));

  // Seats change while people book: refresh the counts in place, keeping focus where it is.
  poll(onLeave, POLL_SECONDS, async () => {
    const fresh = await api.get(path);
    for (const event of fresh.items) {
      const line = list.querySelector(`[data-seats-for="${event.id}"]`);
      if (line) line.textContent = seatsLeft(event);
    }
  });

  const searching = filters.q || filters.location || filters.from || filters.to;
  const empty = h("p", {}, searching ? "No upcoming events match your search." : "There are no upcoming events yet.");
  return h(
    "section",
    {},
    heading("Upcoming events"),
    searchForm(filters),
    page.total ? list : empty,
    pager(page, (offset) => navigate(listUrl({ ...filters, offset }))),
  );
}

async function ownBooking(eventId) {
  const mine = await api.get("/bookings/me" + api.query({ limit: 100 }));
  return mine.items.find((b) => b.event_id === eventId && b.status !== "cancelled") || null;
}

function describeBooking(booking) {
  if (booking.status === "waitlisted") {
    return `You are number ${booking.waitlist_position} on the waiting list for ${booking.seats} seat${booking.seats > 1 ? "s" : ""}.`;
  }
  return `You have ${booking.seats} seat${booking.seats > 1 ? "s" : ""} booked. Ticket code ${booking.ticket_code}.`;
}

function bookingForm(event, yourBooking, refreshSeats) {
  const seats = h("select", { name: "seats" }, Array.from({ length: 10 }, (_, i) => h("option", { value: i + 1 }, String(i + 1))));
  const wait = h("input", { type: "checkbox", name: "join_waitlist" });
  const button = h("button", { type: "submit", class: "primary" }, "Book");
  const line = statusLine();
  // One key per intended booking: a repeated click or a retry after a lost answer books once.
  let key = api.newKey();
  const onsubmit = (submitted) => {
    submitted.preventDefault();
    act(button, line, async () => {
      const body = { event_id: event.id, seats: Number(seats.value), join_waitlist: wait.checked };
      const booking = await api.post("/bookings", body, { headers: { "Idempotency-Key": key } });
      key = api.newKey();
      yourBooking.textContent = describeBooking(booking);
      await refreshSeats();
      return booking.status === "waitlisted" ? "You joined the waiting list." : "Booked. Your ticket is under My bookings.";
    });
  };
  return h(
    "form",
    { class: "booking", onsubmit },
    h("h2", {}, "Book seats"),
    field("Seats", seats),
    h("label", { class: "check" }, wait, " Join the waiting list if there are not enough seats"),
    button,
    line,
  );
}

function bookingPart(event) {
  const user = api.user();
  if (!user) {
    return h("p", {}, h("a", { href: `/login?next=/events/${event.id}` }, "Log in"), " or ", h("a", { href: "/signup" }, "sign up"), " to book.");
  }
  if (user.role !== "attendee") {
    const manage = event.organizer_id === user.id || user.role === "admin";
    return h("p", {}, "Bookings are made by attendee accounts.", manage ? [" ", h("a", { href: `/organizer/events/${event.id}/guests` }, "See the guest list")] : null);
  }
  return null;
}

export async function eventPage({ params, onLeave }) {
  const id = Number(params.id);
  const event = await api.get(`/events/${id}`);
  const seats = h("p", { class: "seats" }, seatsLeft(event));
  const refreshSeats = async () => {
    seats.textContent = seatsLeft(await api.get(`/events/${id}`));
  };
  poll(onLeave, POLL_SECONDS, refreshSeats);

  const calendarLine = statusLine();
  const calendar = h("button", { type: "button", onclick: () => act(calendar, calendarLine, async () => {
    saveFile(await api.get(`/events/${id}/calendar.ics`), `event-${id}.ics`);
  }) }, "Add to calendar (.ics)");

  const yourBooking = h("p", { class: "your-booking", role: "status", "aria-live": "polite" });
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
      h("dt", {}, "Starts"), h("dd", {}, formatTime(event.starts_at, zone)),
      event.ends_at && [h("dt", {}, "Ends"), h("dd", {}, formatTime(event.ends_at, zone))],
      h("dt", {}, "Where"), h("dd", {}, event.location),
      h("dt", {}, "Organizer"), h("dd", {}, event.organizer_name),
    ),
    event.description && h("p", { class: "description" }, event.description),
    seats,
    yourBooking,
    booking,
    h("p", {}, calendar),
    calendarLine,
  );
}
