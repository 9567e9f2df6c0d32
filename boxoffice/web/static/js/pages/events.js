// Public pages: the list of events with search and filters, and one event with booking.

import * as api from "../api.js";
import {
  act,
  field,
  formatTime,
  formValues,
  h,
  heading,
  pager,
  saveFile,
  say,
  statusBadge,
  statusLine,
} from "../dom.js";
import { navigate } from "../router.js";
import {
  availability,
  bookingDetails,
  bookingPath,
  holdEnded,
  isFree,
  linesText,
  poll,
  priceText,
  seatsLeft,
  total,
} from "./common.js";

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
 * @property {string} currency
 * @property {TicketType[]} ticket_types the ones the caller may see, in display order
 * @property {string | null} price_from the lowest visible price
 * @property {number} hold_minutes how long a booking with a price holds its seats while it is paid
 * @property {number} manual_payment_days how long one paid by transfer holds them
 * @property {number} offer_hours how long a waiting-list offer holds them
 * @property {"promote" | "offer"} waitlist_mode
 * @property {string | null} cancellation_deadline until when a paid booking may be cancelled (null: the start)
 */

/** @typedef {import("./common.js").TicketType} TicketType */
/** @typedef {import("./common.js").Booking} Booking */

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

/** "from €12.00", or "free" when the cheapest ticket costs nothing. */
function priceFrom(/** @type {string} */ amount, /** @type {string} */ currency) {
  const text = priceText(amount, currency);
  return text === "free" ? text : `from ${text}`;
}

function eventCard(/** @type {Event} */ event) {
  return h(
    "li",
    { class: "card" },
    h("h2", {}, h("a", { href: `/events/${event.id}` }, event.title)),
    h("p", { class: "meta" }, formatTime(event.starts_at, event.timezone), " · ", event.location),
    event.price_from && h("p", { class: "price" }, priceFrom(event.price_from, event.currency)),
    h("p", { class: "seats", "data-seats-for": event.id }, seatsLeft(event)),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function listPage({ query, onLeave, flash }) {
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
  return h(
    "section",
    {},
    heading("Upcoming events"),
    statusLine("page", flash),
    searchForm(query),
    page.total ? list : empty,
    pager(page),
  );
}

async function ownBooking(/** @type {number} */ eventId) {
  /** @type {{items: Booking[]}} */
  const mine = await api.get(`/bookings/me${api.query({ limit: 100 })}`);
  const ended = ["cancelled", "expired"];
  return mine.items.find((b) => b.event_id === eventId && !ended.includes(b.status)) || null;
}

function describeBooking(/** @type {Booking} */ booking, /** @type {string} */ zone) {
  const seats = `${booking.seats} seat${booking.seats > 1 ? "s" : ""}`;
  const lines = linesText(booking.lines);
  const until = booking.expires_at && formatTime(booking.expires_at, zone);
  if (holdEnded(booking)) return `Your hold on ${seats} has ended: ${lines}.`;
  if (booking.status === "waitlisted") {
    return `You are number ${booking.waitlist_position} on the waiting list for ${seats}: ${lines}.`;
  }
  if (booking.status === "pending") return `You have ${seats} held until ${until}, waiting for payment: ${lines}.`;
  if (booking.status === "offered") return `You are offered ${seats} until ${until}: ${lines}.`;
  return `You have ${seats} booked: ${lines}.`;
}

/** What the attendee can do next with their booking of this event. */
function nextStep(/** @type {Booking} */ booking) {
  const mine = h("a", { href: "/bookings" }, "My bookings");
  if (holdEnded(booking)) return h("p", {}, "See it under ", mine, ".");
  if (booking.status === "pending") {
    return h(
      "p",
      {},
      h("a", { href: bookingPath(booking.id), class: "button primary" }, "Pay now"),
      " or see it under ",
      mine,
      ".",
    );
  }
  if (booking.status === "offered") return h("p", {}, "Accept or decline the offer under ", mine, ".");
  return h("p", {}, h("a", { href: "/bookings" }, "See or cancel it under My bookings"));
}

/**
 * The event's booking, said in the live region and then shown with its tickets' QR codes.
 * @param {HTMLElement} summary
 * @param {HTMLElement} details
 * @param {Booking} booking
 * @param {string} zone the event's
 */
async function showBooking(summary, details, booking, zone) {
  summary.textContent = describeBooking(booking, zone);
  details.replaceChildren(await bookingDetails(booking));
}

/**
 * One ticket type: what it is, costs and has left, and how many to book (none when it is not on sale).
 * @param {TicketType} type
 * @param {Event} event
 * @param {string} quantity what was chosen before the list was drawn again
 */
function typeRow(type, event, quantity) {
  const { onSale, text } = availability(type, event.timezone);
  const input = h("input", {
    name: `quantity-${type.id}`,
    type: "number",
    inputmode: "numeric",
    min: 0,
    max: type.max_per_booking,
    step: 1,
    value: onSale ? quantity : 0,
    disabled: !onSale,
    class: "quantity",
  });
  const limits = type.min_per_booking > 1 ? ` · ${type.min_per_booking} to ${type.max_per_booking} per booking` : "";
  const quantityField = field(type.name, input);
  const facts = h(
    "p",
    { class: "hint", id: `${input.id}-facts` },
    h("span", { class: "price" }, priceText(type.price, event.currency)),
    " · ",
    h("span", { "data-left-for": type.id }, text),
    limits,
  );
  input.setAttribute("aria-describedby", facts.id);
  return h(
    "li",
    { class: "ticket-type" },
    quantityField,
    facts,
    type.description && h("p", { class: "description" }, type.description),
  );
}

/**
 * @param {Event} event
 * @param {(booking: Booking) => Promise<void>} booked shows the booking made here
 * @param {() => Promise<void>} refreshSeats
 */
function bookingForm(event, booked, refreshSeats) {
  let types = event.ticket_types;
  // The access code the list was last loaded with; a booking of a hidden type sends it along.
  let accessCode = "";
  const list = h("ul", { class: "ticket-types", "aria-label": "Ticket types" });
  const totalLine = h("p", { class: "total", "aria-live": "polite" });
  const holdNote = h(
    "p",
    { class: "hint", hidden: true },
    `Your seats will be held for ${event.hold_minutes} minutes while you pay.`,
  );
  const button = h("button", { type: "submit", class: "primary" }, "Book");
  const line = statusLine("booking");
  const form = h("form", { class: "booking", "aria-labelledby": "book-heading" });

  /** @returns {{ticket_type_id: number, quantity: number}[]} */
  const chosen = () => {
    const values = formValues(form);
    return types
      .map((type) => ({ ticket_type_id: type.id, quantity: Number(values[`quantity-${type.id}`]) || 0 }))
      .filter((chosenLine) => chosenLine.quantity > 0);
  };
  const showTotal = () => {
    const lines = chosen();
    const prices = new Map(types.map((type) => [type.id, type.price]));
    const items = lines.map((l) => ({ quantity: l.quantity, price: prices.get(l.ticket_type_id) || "0" }));
    const count = items.reduce((sum, item) => sum + item.quantity, 0);
    const sum = total(items);
    totalLine.textContent = count
      ? `${count} ticket${count > 1 ? "s" : ""} · total ${priceText(sum, event.currency)}`
      : "No tickets chosen yet.";
    holdNote.hidden = isFree(sum);
  };
  const drawTypes = () => {
    const before = formValues(form);
    // With one type on offer, one ticket of it is what most people want.
    const preset = types.length === 1 ? "1" : "0";
    list.replaceChildren(...types.map((type) => typeRow(type, event, before[`quantity-${type.id}`] ?? preset)));
    showTotal();
  };

  // One key per intended booking: a repeated click or a retry after a lost answer books once.
  let key = api.newKey();
  form.addEventListener("input", showTotal);
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const values = formValues(form);
    const lines = chosen();
    if (!lines.length) {
      say(line, "Choose how many tickets of at least one type you want.", "error");
      return;
    }
    act(button, line, async () => {
      const body = {
        event_id: event.id,
        lines,
        join_waitlist: "join_waitlist" in values,
        ...(accessCode ? { access_code: accessCode } : {}),
      };
      /** @type {Booking} */
      const booking = await api.post("/bookings", body, { headers: { "Idempotency-Key": key } });
      key = api.newKey();
      if (booking.status === "pending") {
        await navigate(bookingPath(booking.id));
        return "Your seats are held: on to paying for them.";
      }
      await Promise.all([booked(booking), refreshSeats()]);
      return booking.status === "waitlisted"
        ? "You joined the waiting list."
        : "Booked. Your ticket is under My bookings.";
    });
  });
  form.append(
    h("h2", { id: "book-heading" }, "Book tickets"),
    list,
    totalLine,
    holdNote,
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "join_waitlist" }),
      " Join the waiting list if there are not enough seats",
    ),
    button,
    line,
  );
  drawTypes();

  const codeInput = h("input", { name: "access_code", maxlength: 64, autocomplete: "off", spellcheck: "false" });
  const codeButton = h("button", { type: "submit" }, "Apply code");
  const codeLine = statusLine("access-code");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const code = formValues(/** @type {HTMLFormElement} */ (submitted.currentTarget)).access_code.trim();
    act(codeButton, codeLine, async () => {
      /** @type {{items: TicketType[]}} */
      const answer = await api.get(`/events/${event.id}/ticket-types${api.query({ access_code: code })}`);
      const known = new Set(types.map((type) => type.id));
      const unlocked = answer.items.filter((type) => !known.has(type.id));
      types = answer.items;
      accessCode = code;
      drawTypes();
      if (!code) return "";
      if (!unlocked.length) return "This code unlocks no further tickets.";
      return `Unlocked: ${unlocked.map((type) => type.name).join(", ")}.`;
    });
  };
  const codeForm = h(
    "form",
    { class: "access-code", onsubmit, "aria-label": "Unlock tickets" },
    field("Access code", codeInput, "Some tickets are sold only with a code from the organizer."),
    codeButton,
    codeLine,
  );
  return h("div", { class: "book" }, form, codeForm);
}

/** The tickets on sale, for those who do not book here (visitors, organizers). */
function ticketList(/** @type {Event} */ event) {
  return h(
    "section",
    { "aria-labelledby": "tickets-heading" },
    h("h2", { id: "tickets-heading" }, "Tickets"),
    h(
      "ul",
      { class: "ticket-list" },
      event.ticket_types.map((type) =>
        h(
          "li",
          {},
          h("strong", {}, type.name),
          ` · ${priceText(type.price, event.currency)} · `,
          h("span", { "data-left-for": type.id }, availability(type, event.timezone).text),
        ),
      ),
    ),
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
  /** @type {HTMLElement} */
  let article;
  // Seats left, of the event and of each type on show (the types an access code unlocked keep theirs).
  const refreshSeats = async () => {
    /** @type {Event} */
    const fresh = await api.get(`/events/${id}`);
    seats.textContent = seatsLeft(fresh);
    for (const type of fresh.ticket_types) {
      const left = article.querySelector(`[data-left-for="${type.id}"]`);
      if (left) left.textContent = availability(type, fresh.timezone).text;
    }
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

  const summary = h("p", { class: "your-booking", role: "status", "aria-live": "polite" });
  const details = h("div", {});
  const booked = (/** @type {Booking} */ made) => showBooking(summary, details, made, event.timezone);
  /** @type {import("../dom.js").Child} */
  let booking = bookingPart(event);
  if (!booking) {
    const existing = await ownBooking(id);
    if (existing) await booked(existing);
    booking = existing ? nextStep(existing) : event.status === "published" && bookingForm(event, booked, refreshSeats);
  } else if (event.ticket_types.length) {
    booking = [ticketList(event), booking];
  }

  const zone = event.timezone;
  article = h(
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
    summary,
    details,
    booking,
    h("p", {}, calendar),
    calendarLine,
  );
  return article;
}
