// An organizer's own events: list with status and seats sold, create, edit, publish, cancel,
// delete; the guest list with its CSV and check-in at the door. Admins may do the same.

import * as api from "../api.js";
import { act, field, formatTime, h, heading, pager, saveFile, statusBadge, statusLine, table } from "../dom.js";
import { navigate } from "../router.js";
import { instantFromWallClock, wallClockValue, zoneNames } from "../zones.js";
import { requireRole } from "./common.js";

const PAGE_SIZE = 20;
const MANAGERS = ["organizer", "admin"];

// The buttons that change an event; afterwards the page shows the event's new state.
function eventActions(event, reload, { editing = false } = {}) {
  const line = statusLine();
  const button = (label, work, options = {}) => {
    const element = h("button", { type: "button", class: options.danger ? "danger" : "", "aria-label": `${label}: ${event.title}`, onclick: () => {
      if (options.confirm && !confirm(options.confirm)) return;
      act(element, line, async () => {
        await work();
        await (options.after || reload)();
      });
    } }, label);
    return element;
  };
  const buttons = [
    !editing && h("a", { href: `/organizer/events/${event.id}/edit`, class: "button", "aria-label": `Edit: ${event.title}` }, "Edit"),
    h("a", { href: `/organizer/events/${event.id}/guests`, class: "button", "aria-label": `Guests: ${event.title}` }, "Guests"),
    event.status === "draft" && button("Publish", () => api.post(`/events/${event.id}/publish`)),
    event.status !== "cancelled" && button("Cancel event", () => api.post(`/events/${event.id}/cancel`), {
      danger: true,
      confirm: `Cancel "${event.title}"? Every booking is cancelled and its holder told.`,
    }),
    button("Delete", () => api.del(`/events/${event.id}`), {
      danger: true,
      confirm: `Delete "${event.title}"? It disappears from every listing.`,
      after: () => navigate("/organizer", { flash: `Deleted "${event.title}".` }),
    }),
  ];
  return h("div", { class: "event-actions" }, h("div", { class: "row-actions" }, buttons), line);
}

function flashLine(flash) {
  return h("p", { class: flash ? "status ok" : "status", role: "status", "aria-live": "polite" }, flash || "");
}

export async function dashboardPage({ query, flash }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  const page = await api.get("/events" + api.query({ mine: true, upcoming_only: false, sort: "-starts_at", limit: PAGE_SIZE, offset }));
  const reload = () => navigate(location.pathname + location.search, { replace: true });
  const rows = page.items.map((event) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("a", { href: `/events/${event.id}` }, event.title)),
      h("td", {}, formatTime(event.starts_at, event.timezone)),
      h("td", {}, statusBadge(event.status)),
      h("td", {}, `${event.seats_booked} / ${event.capacity}`),
      h("td", {}, String(event.waitlist_count)),
      h("td", {}, eventActions(event, reload)),
    ),
  );
  return h(
    "section",
    {},
    heading("My events"),
    flashLine(flash),
    h("p", {}, h("a", { href: "/organizer/events/new", class: "button primary" }, "New event")),
    page.total
      ? table("Your events", ["Event", "Starts", "Status", "Seats sold", "Waiting", "Actions"], rows)
      : h("p", {}, "You have no events yet."),
    pager(page, (next) => navigate(`/organizer${api.query({ offset: next || undefined })}`)),
  );
}

function eventForm(event) {
  const zone = event?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const zoneList = h("datalist", { id: "zones" }, zoneNames().map((name) => h("option", { value: name })));
  const inputs = {
    title: h("input", { name: "title", required: true, maxlength: 200, value: event?.title }),
    description: h("textarea", { name: "description", rows: 4, maxlength: 5000 }, event?.description || ""),
    location: h("input", { name: "location", required: true, maxlength: 200, value: event?.location }),
    timezone: h("input", { name: "timezone", required: true, list: "zones", value: zone, autocomplete: "off" }),
    starts_at: h("input", { name: "starts_at", type: "datetime-local", required: true, value: event && wallClockValue(event.starts_at, zone) }),
    ends_at: h("input", { name: "ends_at", type: "datetime-local", value: event?.ends_at && wallClockValue(event.ends_at, zone) }),
    capacity: h("input", { name: "capacity", type: "number", required: true, min: 1, max: 100000, value: event?.capacity ?? 50 }),
  };
  const publish = !event && h("input", { type: "checkbox", name: "publish" });
  const button = h("button", { type: "submit", class: "primary" }, event ? "Save changes" : "Create event");
  const line = statusLine();

  const body = () => {
    const timezone = inputs.timezone.value.trim();
    // A name the API does not know is its to refuse (422 with the reason), not converted here.
    const known = zoneNames().includes(timezone) ? timezone : "UTC";
    const values = {
      title: inputs.title.value.trim(),
      description: inputs.description.value,
      location: inputs.location.value.trim(),
      timezone,
      starts_at: inputs.starts_at.value && instantFromWallClock(inputs.starts_at.value, known),
      ends_at: inputs.ends_at.value ? instantFromWallClock(inputs.ends_at.value, known) : null,
      capacity: Number(inputs.capacity.value),
    };
    if (!event && publish.checked) values.status = "published";
    return values;
  };
  const onsubmit = (submitted) => {
    submitted.preventDefault();
    act(button, line, async () => {
      const saved = event ? await api.patch(`/events/${event.id}`, body()) : await api.post("/events", body());
      navigate(`/organizer/events/${saved.id}/edit`, { replace: true, flash: event ? "Saved." : `Created "${saved.title}" as ${saved.status}.` });
    });
  };
  return h(
    "form",
    { class: "event-form", onsubmit },
    field("Title", inputs.title),
    field("Description", inputs.description),
    field("Location", inputs.location),
    field("Time zone", inputs.timezone, "An IANA name such as Europe/Berlin; the times below are in this zone."),
    zoneList,
    field("Starts", inputs.starts_at),
    field("Ends (optional)", inputs.ends_at),
    field("Seats", inputs.capacity),
    publish && h("label", { class: "check" }, publish, " Publish now (otherwise it stays a draft only you can see)"),
    button,
    line,
  );
}

export function newEventPage() {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  return h("section", { class: "narrow" }, heading("New event"), eventForm(null));
}

export async function editEventPage({ params, flash }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  const event = await api.get(`/events/${Number(params.id)}`);
  const reload = () => navigate(location.pathname, { replace: true });
  return h(
    "section",
    { class: "narrow" },
    heading(`Edit: ${event.title}`),
    flashLine(flash),
    h("p", {}, statusBadge(event.status), ` ${event.seats_booked} of ${event.capacity} seats sold · `, h("a", { href: "/organizer" }, "All my events")),
    eventActions(event, reload, { editing: true }),
    eventForm(event),
  );
}

function guestRow(guest) {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, guest.full_name),
    h("td", {}, guest.email),
    h("td", {}, String(guest.seats)),
    h("td", {}, statusBadge(guest.status)),
    h("td", { class: "code" }, guest.ticket_code),
    h("td", {}, guest.checked_in_at ? "yes" : "no"),
  );
}

function checkInForm(eventId, reload) {
  const code = h("input", { name: "ticket_code", required: true, maxlength: 32, autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const button = h("button", { type: "submit", class: "primary" }, "Check in");
  const line = statusLine();
  const onsubmit = (submitted) => {
    submitted.preventDefault();
    act(button, line, async () => {
      const booking = await api.post(`/events/${eventId}/check-in`, { ticket_code: code.value });
      code.value = "";
      await reload();
      return `Checked in: ticket ${booking.ticket_code}, ${booking.seats} seat${booking.seats > 1 ? "s" : ""}.`;
    });
  };
  return h("form", { class: "inline-form", onsubmit }, h("h2", {}, "Check in"), field("Ticket code", code), button, line);
}

export async function guestsPage({ params, query }) {
  const [, refused] = requireRole(...MANAGERS);
  if (refused) return refused;
  const id = Number(params.id);
  const offset = Number(query.get("offset")) || 0;
  const event = await api.get(`/events/${id}`);
  const tableHolder = h("div");
  const showGuests = async (at) => {
    const page = await api.get(`/events/${id}/bookings${api.query({ limit: 50, offset: at })}`);
    const guests = page.total ? table("Guests", ["Name", "E-mail", "Seats", "Status", "Ticket code", "Checked in"], page.items.map(guestRow)) : h("p", {}, "No bookings yet.");
    const pages = pager(page, (next) => navigate(`/organizer/events/${id}/guests${api.query({ offset: next || undefined })}`));
    tableHolder.replaceChildren(...[guests, pages].filter(Boolean));
  };
  await showGuests(offset);

  const csvLine = statusLine();
  const csv = h("button", { type: "button", onclick: () => act(csv, csvLine, async () => {
    saveFile(await api.get(`/events/${id}/bookings?format=csv`), `event-${id}-guests.csv`);
  }) }, "Download guest list (CSV)");

  return h(
    "section",
    {},
    heading(`Guests: ${event.title}`),
    h("p", { class: "meta" }, formatTime(event.starts_at, event.timezone), " · ", event.location, " · ", `${event.seats_booked} of ${event.capacity} seats sold`),
    h("p", {}, h("a", { href: `/organizer/events/${id}/edit` }, "Edit this event"), " · ", h("a", { href: "/organizer" }, "All my events")),
    checkInForm(id, () => showGuests(offset)),
    h("p", {}, csv),
    csvLine,
    tableHolder,
  );
}
