// What an event sells: its ticket types (price, limits per booking, sale window, hidden behind an
// access code, display order) and the quotas some of them share. For the event's owner and admins.

import * as api from "../api.js";
import { act, field, formatTime, formValues, h, heading, statusLine } from "../dom.js";
import { instantFromWallClock, wallClockValue } from "../zones.js";
import { priceText, requireRole } from "./common.js";

/** @typedef {import("./common.js").TicketType} TicketType */
/** @typedef {import("./organizer.js").ManagedEvent} ManagedEvent */
/**
 * @typedef {object} Quota
 * @property {number} id
 * @property {string} name
 * @property {number} size
 * @property {number} seats_taken
 * @property {number[]} ticket_type_ids
 */

/** The sale window as the organizer set it, in the event's zone. */
function saleWindow(/** @type {TicketType} */ type, /** @type {string} */ zone) {
  const from = type.sale_starts_at ? formatTime(type.sale_starts_at, zone) : "publication";
  const until = type.sale_ends_at ? formatTime(type.sale_ends_at, zone) : "the start";
  return `on sale from ${from} until ${until}`;
}

/**
 * The type as the API wants it from the form's fields; sale times are typed in the event's zone.
 * @param {HTMLFormElement} form
 * @param {string} zone
 */
function typeBody(form, zone) {
  const values = formValues(form);
  return {
    name: values.name.trim(),
    description: values.description,
    price: values.price.trim(),
    min_per_booking: Number(values.min_per_booking),
    max_per_booking: Number(values.max_per_booking),
    sale_starts_at: values.sale_starts_at ? instantFromWallClock(values.sale_starts_at, zone) : null,
    sale_ends_at: values.sale_ends_at ? instantFromWallClock(values.sale_ends_at, zone) : null,
    hidden: "hidden" in values,
    access_code: values.access_code.trim() || null,
  };
}

/**
 * The form of a new type, or of an existing one (its fields filled in).
 * @param {ManagedEvent} event
 * @param {TicketType | null} type
 * @param {(body: ReturnType<typeof typeBody>) => Promise<string>} save
 */
function typeForm(event, type, save) {
  const zone = event.timezone;
  const button = h(
    "button",
    { type: "submit", class: "primary", "aria-label": type ? `Save: ${type.name}` : undefined },
    type ? "Save" : "Add type",
  );
  const line = statusLine(type ? `type-form-${type.id}` : "new-type");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const body = typeBody(/** @type {HTMLFormElement} */ (submitted.currentTarget), zone);
    act(button, line, () => save(body), { andRefresh: true });
  };
  const wallClock = (/** @type {string | null | undefined} */ iso) => iso && wallClockValue(iso, zone);
  const number = (/** @type {string} */ name, /** @type {number} */ value) =>
    h("input", { name, type: "number", required: true, min: 1, max: 100, step: 1, inputmode: "numeric", value });
  return h(
    "form",
    { class: "type-form", onsubmit, "aria-label": type ? `Edit ${type.name}` : "New ticket type" },
    field("Name", h("input", { name: "name", required: true, maxlength: 100, value: type?.name })),
    field("Description", h("textarea", { name: "description", rows: 2, maxlength: 2000 }, type?.description || "")),
    field(
      `Price (${event.currency})`,
      h("input", {
        name: "price",
        required: true,
        inputmode: "decimal",
        autocomplete: "off",
        value: type?.price ?? "0",
      }),
      "0 for a free ticket.",
    ),
    h(
      "div",
      { class: "pair" },
      field("Min per booking", number("min_per_booking", type?.min_per_booking ?? 1)),
      field("Max per booking", number("max_per_booking", type?.max_per_booking ?? 10)),
    ),
    field(
      "Sale starts (optional)",
      h("input", { name: "sale_starts_at", type: "datetime-local", value: wallClock(type?.sale_starts_at) }),
      `In ${zone} time; empty: from publication.`,
    ),
    field(
      "Sale ends (optional)",
      h("input", { name: "sale_ends_at", type: "datetime-local", value: wallClock(type?.sale_ends_at) }),
      "Empty: until the event starts.",
    ),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "hidden", checked: type?.hidden }),
      " Hidden: shown and sold only to people who enter the access code",
    ),
    field(
      "Access code",
      h("input", {
        name: "access_code",
        minlength: 4,
        maxlength: 64,
        pattern: "[A-Za-z0-9_\\-]+",
        autocomplete: "off",
        spellcheck: "false",
        value: type?.access_code ?? "",
      }),
      "4 to 64 letters, digits, - or _; for a hidden type, share it with those who may buy.",
    ),
    button,
    line,
  );
}

/**
 * One type with what an attendee sees of it, its place in the order and its actions.
 * @param {ManagedEvent} event
 * @param {TicketType[]} types all of them, in display order
 * @param {number} index this one's place
 */
function typeCard(event, types, index) {
  const type = types[index];
  const line = statusLine(`type-${type.id}`);
  const label = (/** @type {string} */ action) => `${action}: ${type.name}`;
  /** Moves this type by `step` places: every type whose place changed gets its new position. */
  const move = (/** @type {HTMLButtonElement} */ button, /** @type {number} */ step) => {
    const order = [...types];
    [order[index], order[index + step]] = [order[index + step], order[index]];
    act(
      button,
      line,
      async () => {
        for (const [position, moved] of order.entries()) {
          if (moved.position !== position) {
            await api.patch(`/events/${event.id}/ticket-types/${moved.id}`, { position });
          }
        }
        return `Moved "${type.name}" ${step < 0 ? "up" : "down"}.`;
      },
      { andRefresh: true },
    );
  };
  const up = h("button", { type: "button", "aria-label": label("Move up"), onclick: () => move(up, -1) }, "Move up");
  const down = h(
    "button",
    { type: "button", "aria-label": label("Move down"), onclick: () => move(down, 1) },
    "Move down",
  );
  up.disabled = index === 0;
  down.disabled = index === types.length - 1;
  const remove = h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": label("Delete"),
      onclick: () => {
        if (!confirm(`Delete the ticket type "${type.name}"?`)) return;
        act(
          remove,
          line,
          async () => {
            await api.del(`/events/${event.id}/ticket-types/${type.id}`);
            return `Deleted "${type.name}".`;
          },
          { andRefresh: true },
        );
      },
    },
    "Delete",
  );
  const save = async (/** @type {ReturnType<typeof typeBody>} */ body) => {
    await api.patch(`/events/${event.id}/ticket-types/${type.id}`, body);
    return `Saved "${body.name}".`;
  };
  const per = `${type.min_per_booking}–${type.max_per_booking} per booking`;
  return h(
    "li",
    { class: "card type-card" },
    h("h3", {}, type.name, type.hidden && [" ", h("span", { class: "badge badge-hidden" }, "hidden")]),
    h(
      "p",
      {},
      h("strong", {}, priceText(type.price, event.currency)),
      ` · ${per} · ${saleWindow(type, event.timezone)} · ${type.seats_available} available`,
    ),
    type.access_code && h("p", {}, "Access code ", h("strong", { class: "code" }, type.access_code)),
    type.description && h("p", { class: "description" }, type.description),
    h("div", { class: "row-actions" }, up, down, remove),
    line,
    h("details", { id: `edit-type-${type.id}` }, h("summary", {}, `Edit ${type.name}`), typeForm(event, type, save)),
  );
}

/**
 * A quota's fields: its name, size and a checkbox per type.
 * @param {TicketType[]} types
 * @param {Quota | null} quota
 * @param {(body: {name: string, size: number, ticket_type_ids: number[]}) => Promise<string>} save
 */
function quotaForm(types, quota, save) {
  const button = h(
    "button",
    { type: "submit", class: "primary", "aria-label": quota ? `Save quota: ${quota.name}` : undefined },
    quota ? "Save" : "Add quota",
  );
  const line = statusLine(quota ? `quota-form-${quota.id}` : "new-quota");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const values = formValues(/** @type {HTMLFormElement} */ (submitted.currentTarget));
    const body = {
      name: values.name.trim(),
      size: Number(values.size),
      ticket_type_ids: types.filter((type) => `type-${type.id}` in values).map((type) => type.id),
    };
    act(button, line, () => save(body), { andRefresh: true });
  };
  const members = new Set(quota?.ticket_type_ids || []);
  return h(
    "form",
    { class: "quota-form", onsubmit, "aria-label": quota ? `Edit quota ${quota.name}` : "New quota" },
    field("Name", h("input", { name: "name", required: true, maxlength: 100, value: quota?.name })),
    field(
      "Size",
      h("input", { name: "size", type: "number", required: true, min: 0, max: 100000, value: quota?.size ?? 50 }),
      "Seats the types below may sell together.",
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Ticket types it counts"),
      types.map((type) =>
        h(
          "label",
          { class: "check" },
          h("input", { type: "checkbox", name: `type-${type.id}`, checked: members.has(type.id) }),
          ` ${type.name}`,
        ),
      ),
    ),
    button,
    line,
  );
}

/**
 * @param {ManagedEvent} event
 * @param {TicketType[]} types
 * @param {Quota} quota
 */
function quotaCard(event, types, quota) {
  const line = statusLine(`quota-${quota.id}`);
  const names = types.filter((type) => quota.ticket_type_ids.includes(type.id)).map((type) => type.name);
  const remove = h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": `Delete quota: ${quota.name}`,
      onclick: () => {
        if (!confirm(`Delete the quota "${quota.name}"?`)) return;
        act(
          remove,
          line,
          async () => {
            await api.del(`/events/${event.id}/quotas/${quota.id}`);
            return `Deleted the quota "${quota.name}".`;
          },
          { andRefresh: true },
        );
      },
    },
    "Delete",
  );
  const save = async (/** @type {{name: string, size: number, ticket_type_ids: number[]}} */ body) => {
    await api.patch(`/events/${event.id}/quotas/${quota.id}`, body);
    return `Saved the quota "${body.name}".`;
  };
  const meterId = `quota-meter-${quota.id}`;
  return h(
    "li",
    { class: "card quota-card" },
    h("h3", {}, quota.name),
    h(
      "p",
      { class: "fill" },
      h("label", { for: meterId }, `${quota.seats_taken} of ${quota.size} taken`),
      h("meter", { id: meterId, min: 0, max: quota.size, value: quota.seats_taken }),
    ),
    h("p", {}, names.length ? `Counts: ${names.join(", ")}` : "Counts no ticket type yet."),
    h("div", { class: "row-actions" }, remove),
    line,
    h(
      "details",
      { id: `edit-quota-${quota.id}` },
      h("summary", {}, `Edit quota ${quota.name}`),
      quotaForm(types, quota, save),
    ),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function ticketsPage({ params, flash }) {
  const [, refused] = requireRole("organizer", "admin");
  if (refused) return refused;
  const id = Number(params.id);
  /** @type {[ManagedEvent, {items: TicketType[]}, {items: Quota[]}]} */
  const [event, typeList, quotaList] = await Promise.all([
    api.get(`/events/${id}`),
    api.get(`/events/${id}/ticket-types`),
    api.get(`/events/${id}/quotas`),
  ]);
  const types = typeList.items;
  const quotas = quotaList.items;
  const addType = async (/** @type {ReturnType<typeof typeBody>} */ body) => {
    // Without a position, the API puts a new type after the last one.
    await api.post(`/events/${id}/ticket-types`, body);
    return `Added "${body.name}".`;
  };
  const addQuota = async (/** @type {{name: string, size: number, ticket_type_ids: number[]}} */ body) => {
    await api.post(`/events/${id}/quotas`, body);
    return `Added the quota "${body.name}".`;
  };
  return h(
    "section",
    { class: "catalogue" },
    heading(`Tickets: ${event.title}`),
    statusLine("page", flash),
    h(
      "p",
      { class: "meta" },
      `Prices in ${event.currency} · ${event.seats_booked} of ${event.capacity} seats sold · `,
      h("a", { href: `/organizer/events/${id}/edit` }, "Edit this event"),
      " · ",
      h("a", { href: `/organizer/events/${id}/sales` }, "Sales"),
      " · ",
      h("a", { href: "/organizer" }, "All my events"),
    ),
    h("h2", {}, "Ticket types"),
    h(
      "ol",
      { class: "cards", "aria-label": "Ticket types" },
      types.map((_, index) => typeCard(event, types, index)),
    ),
    h(
      "details",
      { class: "add", id: "add-type" },
      h("summary", {}, "Add a ticket type"),
      typeForm(event, null, addType),
    ),
    h("h2", {}, "Quotas"),
    quotas.length
      ? h(
          "ul",
          { class: "cards", "aria-label": "Quotas" },
          quotas.map((quota) => quotaCard(event, types, quota)),
        )
      : h("p", {}, `No quotas: every type sells from the event's ${event.capacity} seats.`),
    h("details", { class: "add", id: "add-quota" }, h("summary", {}, "Add a quota"), quotaForm(types, null, addQuota)),
  );
}
