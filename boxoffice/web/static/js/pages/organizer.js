// An organizer's own events: list with status and seats sold, create, edit, publish, cancel,
// delete; the guest list with what each booking costs, payments received by hand, its CSV and
// check-in at the door. Admins may do the same.

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
  statusBadge,
  statusLine,
  table,
} from "../dom.js";
import { navigate } from "../router.js";
import { instantFromWallClock, wallClockValue, zoneNames } from "../zones.js";
import { isFree, linesText, money, priceText, requireRole, total } from "./common.js";

const PAGE_SIZE = 20;
/** @type {api.User["role"][]} */
const MANAGERS = ["organizer", "admin"];

/** @typedef {import("./events.js").Event & {seats_booked: number}} ManagedEvent */

/**
 * The buttons that change an event; afterwards the page shows the event's new state.
 * @param {ManagedEvent} event
 */
function eventActions(event, { editing = false } = {}) {
  const line = statusLine(`event-${event.id}`);
  /**
   * @param {string} label
   * @param {() => Promise<string>} work
   * @param {{danger?: boolean, confirm?: string}} [options]
   */
  const button = (label, work, options = {}) => {
    const onclick = () => {
      if (options.confirm && !confirm(options.confirm)) return;
      act(element, line, work, { andRefresh: true });
    };
    const attrs = { type: "button", class: options.danger ? "danger" : "", "aria-label": `${label}: ${event.title}` };
    const element = h("button", { ...attrs, onclick }, label);
    return element;
  };
  const deleteEvent = async () => {
    await api.del(`/events/${event.id}`);
    await navigate("/organizer", { flash: `Deleted "${event.title}".` });
  };
  const deleteButton = h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": `Delete: ${event.title}`,
      onclick: () => {
        if (confirm(`Delete "${event.title}"? It disappears from every listing.`)) act(deleteButton, line, deleteEvent);
      },
    },
    "Delete",
  );
  const buttons = [
    !editing &&
      h(
        "a",
        { href: `/organizer/events/${event.id}/edit`, class: "button", "aria-label": `Edit: ${event.title}` },
        "Edit",
      ),
    h(
      "a",
      { href: `/organizer/events/${event.id}/tickets`, class: "button", "aria-label": `Tickets: ${event.title}` },
      "Tickets",
    ),
    h(
      "a",
      { href: `/organizer/events/${event.id}/sales`, class: "button", "aria-label": `Sales: ${event.title}` },
      "Sales",
    ),
    h(
      "a",
      { href: `/organizer/events/${event.id}/guests`, class: "button", "aria-label": `Guests: ${event.title}` },
      "Guests",
    ),
    h(
      "a",
      { href: `/organizer/events/${event.id}/door`, class: "button", "aria-label": `Door: ${event.title}` },
      "Door",
    ),
    event.status === "draft" &&
      button("Publish", async () => {
        await api.post(`/events/${event.id}/publish`);
        return `Published "${event.title}".`;
      }),
    event.status !== "cancelled" &&
      button(
        "Cancel event",
        async () => {
          await api.post(`/events/${event.id}/cancel`);
          return `Cancelled "${event.title}".`;
        },
        { danger: true, confirm: `Cancel "${event.title}"? Every booking is cancelled and its holder told.` },
      ),
    deleteButton,
  ];
  return h("div", { class: "event-actions" }, h("div", { class: "row-actions" }, buttons), line);
}

/** @param {import("../router.js").PageContext} context */
export async function dashboardPage({ query, flash }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  const filters = { mine: true, upcoming_only: false, sort: "-starts_at", limit: PAGE_SIZE, offset };
  /** @type {{items: ManagedEvent[], total: number, limit: number, offset: number}} */
  const page = await api.get(`/events${api.query(filters)}`);
  const rows = page.items.map((event) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `/events/${event.id}` }, event.title)),
      h("td", {}, formatTime(event.starts_at, event.timezone)),
      h("td", {}, statusBadge(event.status)),
      h("td", {}, `${event.seats_booked} / ${event.capacity}`),
      h("td", {}, String(event.waitlist_count)),
      h("td", {}, eventActions(event)),
    ),
  );
  const headers = ["Event", "Starts", "Status", "Seats sold", "Waiting", "Actions"];
  return h(
    "section",
    {},
    heading("My events"),
    statusLine("page", flash),
    h("p", {}, h("a", { href: "/organizer/events/new", class: "button primary" }, "New event")),
    page.total ? table("Your events", headers, rows) : h("p", {}, "You have no events yet."),
    pager(page),
  );
}

/**
 * The event as the API wants it from the form's fields; times are typed in the event's zone.
 * @param {HTMLFormElement} form
 */
function eventBody(form) {
  const values = formValues(form);
  const timezone = values.timezone.trim();
  // A name the API does not know is its to refuse (422 with the reason), not converted here.
  const known = zoneNames().includes(timezone) ? timezone : "UTC";
  return {
    title: values.title.trim(),
    description: values.description,
    location: values.location.trim(),
    timezone,
    starts_at: values.starts_at && instantFromWallClock(values.starts_at, known),
    ends_at: values.ends_at ? instantFromWallClock(values.ends_at, known) : null,
    capacity: Number(values.capacity),
    hold_minutes: Number(values.hold_minutes),
    manual_payment_days: Number(values.manual_payment_days),
    offer_hours: Number(values.offer_hours),
    waitlist_mode: values.waitlist_mode,
    cancellation_deadline: values.cancellation_deadline
      ? instantFromWallClock(values.cancellation_deadline, known)
      : null,
    // Only a new event has the field: its prices are in this currency.
    ...(values.currency ? { currency: values.currency.trim().toUpperCase() } : {}),
    ...("publish" in values ? { status: "published" } : {}),
  };
}

/**
 * How long seats are held while people pay or answer an offer, what the waiting list does,
 * and until when a paid booking may be cancelled.
 * @param {ManagedEvent | null} event
 * @param {(iso: string | null | undefined) => string | null | undefined} wallClock
 */
function holdFields(event, wallClock) {
  /** @param {string} name @param {number} value @param {number} max */
  const number = (name, value, max) =>
    h("input", { name, type: "number", required: true, min: 1, max, step: 1, value, class: "short" });
  const mode = event?.waitlist_mode ?? "promote";
  return h(
    "fieldset",
    {},
    h("legend", {}, "Payments and waiting list"),
    field(
      "Minutes to pay",
      number("hold_minutes", event?.hold_minutes ?? 15, 120),
      "How long a booking with a price holds its tickets while the buyer pays: 1 to 120 minutes.",
    ),
    field(
      "Days to pay by transfer",
      number("manual_payment_days", event?.manual_payment_days ?? 3, 60),
      "How long it holds them once the buyer chose bank transfer or cash at the desk: 1 to 60 days, never past the start.",
    ),
    field(
      "Hours to answer an offer",
      number("offer_hours", event?.offer_hours ?? 24, 336),
      "How long someone on the waiting list has to accept the tickets offered to them: 1 to 336 hours.",
    ),
    field(
      "Waiting list",
      h(
        "select",
        { name: "waitlist_mode" },
        h("option", { value: "promote", selected: mode === "promote" }, "Book the next in line at once"),
        h(
          "option",
          { value: "offer", selected: mode === "offer" },
          "Offer to the next in line, who accepts or declines",
        ),
      ),
      "When tickets come free. An event with a paid ticket type always offers: nobody is charged without saying yes.",
    ),
    field(
      "Cancellation deadline (optional)",
      h("input", {
        name: "cancellation_deadline",
        type: "datetime-local",
        value: wallClock(event?.cancellation_deadline),
      }),
      "Until when attendees may cancel a paid booking themselves, refunded in full; empty: until the start.",
    ),
  );
}

function eventForm(/** @type {ManagedEvent | null} */ event) {
  const zone = event?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const zoneList = h(
    "datalist",
    { id: "zones" },
    zoneNames().map((name) => h("option", { value: name })),
  );
  const button = h("button", { type: "submit", class: "primary" }, event ? "Save changes" : "Create event");
  const line = statusLine("event-form");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const body = eventBody(/** @type {HTMLFormElement} */ (submitted.currentTarget));
    act(button, line, async () => {
      const saved = event ? await api.patch(`/events/${event.id}`, body) : await api.post("/events", body);
      const flash = event ? "Saved." : `Created "${saved.title}" as ${saved.status}.`;
      await navigate(`/organizer/events/${saved.id}/edit`, { replace: true, flash });
    });
  };
  const wallClock = (/** @type {string | null | undefined} */ iso) => iso && wallClockValue(iso, zone);
  return h(
    "form",
    { class: "event-form", onsubmit },
    field("Title", h("input", { name: "title", required: true, maxlength: 200, value: event?.title })),
    field("Description", h("textarea", { name: "description", rows: 4, maxlength: 5000 }, event?.description || "")),
    field("Location", h("input", { name: "location", required: true, maxlength: 200, value: event?.location })),
    field(
      "Time zone",
      h("input", { name: "timezone", required: true, list: "zones", value: zone, autocomplete: "off" }),
      "An IANA name such as Europe/Berlin; the times below are in this zone.",
    ),
    zoneList,
    field(
      "Starts",
      h("input", { name: "starts_at", type: "datetime-local", required: true, value: wallClock(event?.starts_at) }),
    ),
    field("Ends (optional)", h("input", { name: "ends_at", type: "datetime-local", value: wallClock(event?.ends_at) })),
    field(
      "Seats",
      h("input", {
        name: "capacity",
        type: "number",
        required: true,
        min: 1,
        max: 100000,
        value: event?.capacity ?? 50,
      }),
    ),
    !event &&
      field(
        "Currency",
        h("input", {
          name: "currency",
          required: true,
          minlength: 3,
          maxlength: 3,
          pattern: "[A-Za-z]{3}",
          value: "EUR",
          autocapitalize: "characters",
          autocomplete: "off",
          class: "short",
        }),
        "A three-letter code such as EUR or USD. The event starts with one free type, General admission; set prices under Tickets.",
      ),
    holdFields(event, wallClock),
    !event &&
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "publish" }),
        " Publish now (otherwise it stays a draft only you can see)",
      ),
    button,
    line,
  );
}

export function newEventPage() {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  return h("section", { class: "narrow" }, heading("New event"), eventForm(null));
}

/** @param {import("../router.js").PageContext} context */
export async function editEventPage({ params, flash }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  /** @type {ManagedEvent} */
  const event = await api.get(`/events/${Number(params.id)}`);
  return h(
    "section",
    { class: "narrow" },
    heading(`Edit: ${event.title}`),
    statusLine("page", flash),
    h(
      "p",
      {},
      statusBadge(event.status),
      ` ${event.seats_booked} of ${event.capacity} seats sold · `,
      h("a", { href: "/organizer" }, "All my events"),
    ),
    eventActions(event, { editing: true }),
    eventForm(event),
  );
}

/**
 * @typedef {object} Guest
 * @property {number} booking_id
 * @property {string} full_name
 * @property {string} email
 * @property {number} seats
 * @property {import("./common.js").Line[]} lines
 * @property {string} status
 * @property {string} ticket_code
 * @property {string | null} checked_in_at
 */

/**
 * Records the money of a booking paid by transfer or at the desk: it is confirmed.
 * @param {Guest} guest
 * @param {string} amount what it costs, in the event's currency
 * @param {HTMLElement} line
 */
function markPaidButton(guest, amount, line) {
  const markPaid = async () => {
    await api.post(`/bookings/${guest.booking_id}/mark-paid`);
    return `Recorded: ${guest.full_name} paid ${amount}.`;
  };
  const button = h(
    "button",
    {
      type: "button",
      "aria-label": `Mark paid: ${guest.full_name}`,
      onclick: () => {
        if (confirm(`Record that ${guest.full_name} paid ${amount}?`))
          act(button, line, markPaid, { andRefresh: true });
      },
    },
    "Mark paid",
  );
  return button;
}

/** @param {Guest} guest @param {string} currency the event's */
function guestRow(guest, currency) {
  const price = total(guest.lines.map((line) => ({ quantity: line.quantity, price: line.unit_price })));
  const owed = guest.status === "pending" && !isFree(price);
  const line = statusLine(`guest-${guest.booking_id}`);
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, guest.full_name),
    h("td", {}, guest.email),
    h("td", {}, String(guest.seats)),
    h("td", {}, linesText(guest.lines)),
    h("td", {}, owed ? `${money(price, currency)} owed` : priceText(price, currency)),
    h("td", {}, statusBadge(guest.status)),
    h("td", { class: "code" }, guest.ticket_code),
    h("td", {}, guest.checked_in_at ? "yes" : "no"),
    h("td", {}, owed && markPaidButton(guest, money(price, currency), line), line),
  );
}

function checkInForm(/** @type {number} */ eventId) {
  const code = h("input", {
    name: "ticket_code",
    required: true,
    maxlength: 32,
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
  });
  const button = h("button", { type: "submit", class: "primary" }, "Check in");
  const line = statusLine("check-in");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const { ticket_code } = formValues(/** @type {HTMLFormElement} */ (submitted.currentTarget));
    const checkIn = async () => {
      const booking = await api.post(`/events/${eventId}/check-in`, { ticket_code });
      return `Checked in: ticket ${booking.ticket_code}, ${booking.seats} seat${booking.seats > 1 ? "s" : ""}.`;
    };
    act(button, line, checkIn, { andRefresh: true });
  };
  return h(
    "form",
    { class: "inline-form", onsubmit },
    h("h2", {}, "Check in"),
    field("Ticket code", code),
    button,
    line,
  );
}

/** @param {import("../router.js").PageContext} context */
export async function guestsPage({ params, query }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  const id = Number(params.id);
  const offset = Number(query.get("offset")) || 0;
  /** @type {[ManagedEvent, {items: Guest[], total: number, limit: number, offset: number}]} */
  const [event, page] = await Promise.all([
    api.get(`/events/${id}`),
    api.get(`/events/${id}/bookings${api.query({ limit: 50, offset })}`),
  ]);
  const headers = ["Name", "E-mail", "Seats", "Tickets", "Amount", "Status", "Ticket code", "Checked in", "Actions"];
  const rows = page.items.map((guest) => guestRow(guest, event.currency));
  const guests = page.total ? table("Guests", headers, rows) : h("p", {}, "No bookings yet.");

  const csvLine = statusLine("csv");
  const download = async () => {
    saveFile(await api.get(`/events/${id}/bookings?format=csv`), `event-${id}-guests.csv`);
  };
  const csv = h("button", { type: "button", onclick: () => act(csv, csvLine, download) }, "Download guest list (CSV)");

  const sold = `${event.seats_booked} of ${event.capacity} seats sold`;
  return h(
    "section",
    {},
    heading(`Guests: ${event.title}`),
    h("p", { class: "meta" }, formatTime(event.starts_at, event.timezone), " · ", event.location, " · ", sold),
    h(
      "p",
      {},
      h("a", { href: `/organizer/events/${id}/edit` }, "Edit this event"),
      " · ",
      h("a", { href: `/organizer/events/${id}/tickets` }, "Tickets"),
      " · ",
      h("a", { href: `/organizer/events/${id}/sales` }, "Sales"),
      " · ",
      h("a", { href: `/organizer/events/${id}/door` }, "Door"),
      " · ",
      h("a", { href: "/organizer" }, "All my events"),
    ),
    checkInForm(id),
    h("p", {}, csv),
    csvLine,
    guests,
    pager(page),
  );
}
