// An event's door for its organizer and admins: the check-in lists with their live counts, adding,
// editing and deleting them, each list's scanner keys (a new one shown once, with the scanner link
// that carries it) and its arrivals, as the API's chart and as a table of the same figures.

import * as api from "../api.js";
import { act, field, formatTime, h, heading, say, statusLine, table } from "../dom.js";
import { chartImage, countFigures, poll, requireRole, showCounts } from "./common.js";

/** @typedef {import("./organizer.js").ManagedEvent} ManagedEvent */
/** @typedef {import("./common.js").TicketType} TicketType */
/**
 * @typedef {object} CheckInList
 * @property {number} id
 * @property {number} event_id
 * @property {string} name
 * @property {number[]} ticket_type_ids the types it admits; empty: every type
 * @property {boolean} allow_reentry whether an exit lets a ticket in again
 * @property {import("./common.js").Counts} counts
 */
/** @typedef {{id: number, name: string, created_at: string, last_used_at: string | null}} ScannerKey */
/** @typedef {{starts_at: string, seats: number}} Arrival */

const POLL_SECONDS = 15;
const COUNT = new Intl.NumberFormat();

/** The scanner's page for a list; with a key, its link, which carries the key in its fragment. */
function scannerPath(/** @type {number} */ listId, /** @type {string} */ key = "") {
  return key ? `/scan/${listId}#key=${encodeURIComponent(key)}` : `/scan/${listId}`;
}

/**
 * A new list's fields, or an existing one's: its name, the types it admits, re-entry.
 * @param {TicketType[]} types
 * @param {CheckInList | null} list
 * @param {(body: {name: string, ticket_type_ids: number[], allow_reentry: boolean}) => Promise<string>} save
 */
function listForm(types, list, save) {
  const button = h(
    "button",
    { type: "submit", class: "primary", "aria-label": list ? `Save list: ${list.name}` : undefined },
    list ? "Save" : "Add list",
  );
  const line = statusLine(list ? `list-form-${list.id}` : "new-list");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const values = new FormData(/** @type {HTMLFormElement} */ (submitted.currentTarget));
    const body = {
      name: String(values.get("name")).trim(),
      ticket_type_ids: values.getAll("ticket_type_ids").map(Number),
      allow_reentry: values.has("allow_reentry"),
    };
    act(button, line, () => save(body), { andRefresh: true });
  };
  const admitted = new Set(list?.ticket_type_ids || []);
  return h(
    "form",
    { class: "list-form", onsubmit, "aria-label": list ? `Edit list ${list.name}` : "New check-in list" },
    field("Name", h("input", { name: "name", required: true, maxlength: 100, value: list?.name })),
    h(
      "fieldset",
      {},
      h("legend", {}, "Ticket types it admits"),
      h("p", { class: "hint" }, "None ticked: every type."),
      types.map((type) =>
        h(
          "label",
          { class: "check" },
          h("input", { type: "checkbox", name: "ticket_type_ids", value: type.id, checked: admitted.has(type.id) }),
          ` ${type.name}`,
        ),
      ),
    ),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "allow_reentry", checked: list ? list.allow_reentry : true }),
      " Allow re-entry (someone who went out may come in again)",
    ),
    button,
    line,
  );
}

/**
 * A list's scanner keys: a new one is shown once, with its scanner link; one or all revoked.
 * Drawn again in place after each change, so that the key just made stays in view.
 * @param {CheckInList} list
 * @param {string} zone the event's
 */
function scannerKeys(list, zone) {
  const line = statusLine(`keys-${list.id}`);
  const shown = h("div", { class: "key-shown panel", hidden: true });
  /** @type {number | null} */
  let shownId = null;
  const listing = h("div", {});

  const draw = async () => {
    /** @type {{items: ScannerKey[]}} */
    const { items } = await api.get(`/check-in-lists/${list.id}/scanner-keys`);
    if (shownId !== null && !items.some((key) => key.id === shownId)) shown.hidden = true;
    const rows = items.map((key) => {
      const revoke = h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": `Revoke key: ${key.name}`,
          onclick: () =>
            act(revoke, line, async () => {
              await api.del(`/check-in-lists/${list.id}/scanner-keys/${key.id}`);
              await draw();
              return `Revoked the key "${key.name}": its scanner is refused from now on.`;
            }),
        },
        "Revoke",
      );
      return h(
        "tr",
        {},
        h("th", { scope: "row" }, key.name),
        h("td", {}, formatTime(key.created_at, zone)),
        h("td", {}, key.last_used_at ? formatTime(key.last_used_at, zone) : "never"),
        h("td", {}, revoke),
      );
    });
    const revokeAll = h(
      "button",
      {
        type: "button",
        class: "danger",
        "aria-label": `Revoke all keys: ${list.name}`,
        onclick: () => {
          if (!confirm(`Revoke every scanner key of "${list.name}"? Their scanners are refused at once.`)) return;
          act(revokeAll, line, async () => {
            await api.del(`/check-in-lists/${list.id}/scanner-keys`);
            await draw();
            return "Revoked every key of this list.";
          });
        },
      },
      "Revoke all keys",
    );
    listing.replaceChildren(
      ...(items.length
        ? [table(`Scanner keys of ${list.name}`, ["Name", "Created", "Last used", "Actions"], rows), revokeAll]
        : [h("p", {}, "No scanner keys: only you and admins can scan here.")]),
    );
  };

  /** @param {ScannerKey & {key: string}} made */
  const show = (made) => {
    const link = new URL(scannerPath(list.id, made.key), location.origin).href;
    const copyLine = statusLine(`copy-${list.id}`);
    const linkField = h("input", { readonly: true, value: link, class: "code", spellcheck: "false" });
    const copy = h(
      "button",
      {
        type: "button",
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(link);
            say(copyLine, "Copied the link.");
          } catch {
            linkField.select();
            say(copyLine, "Copying was refused: the link is selected, copy it by hand.", "error");
          }
        },
      },
      "Copy link",
    );
    shownId = made.id;
    shown.replaceChildren(
      h("h4", {}, `Scanner key "${made.name}", shown this once`),
      h(
        "p",
        {},
        "Send this link to the phone at the door: it opens the scanner with the key. Whoever has it can scan at ",
        `${list.name} until you revoke the key.`,
      ),
      field("Scanner link", linkField),
      field("Key", h("input", { readonly: true, value: made.key, class: "code", spellcheck: "false" })),
      h(
        "div",
        { class: "row-actions" },
        copy,
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              shown.hidden = true;
            },
          },
          "Done",
        ),
      ),
      copyLine,
    );
    shown.hidden = false;
  };

  const button = h("button", { type: "submit", "aria-label": `New scanner key for ${list.name}` }, "New scanner key");
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const form = /** @type {HTMLFormElement} */ (submitted.currentTarget);
    const name = String(new FormData(form).get("name")).trim();
    act(button, line, async () => {
      show(await api.post(`/check-in-lists/${list.id}/scanner-keys`, { name }));
      form.reset();
      await draw();
    });
  };
  const form = h(
    "form",
    { class: "key-form", onsubmit, "aria-label": `New scanner key for ${list.name}` },
    field(
      "Name of the phone",
      h("input", { name: "name", required: true, maxlength: 100 }),
      "Such as “Gate A, phone 1”.",
    ),
    button,
  );
  return { element: h("div", { class: "scanner-keys" }, shown, line, listing, form), draw };
}

/**
 * Seats that came in through the list per ten minutes: the API's chart, and its figures in a table.
 * @param {CheckInList} list
 * @param {string} zone the event's
 */
async function arrivals(list, zone) {
  /** @type {{items: Arrival[]}} */
  const { items } = await api.get(`/check-in-lists/${list.id}/arrivals`);
  if (!items.some((arrival) => arrival.seats)) return h("p", {}, "Nobody has come in through this list yet.");
  const chart = await chartImage(
    `/check-in-lists/${list.id}/arrivals.svg`,
    `Bar chart: arrivals through ${list.name} per 10 minutes. Its figures are in the table below.`,
  );
  const time = new Intl.DateTimeFormat(undefined, {
    timeZone: zone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const rows = items.map((arrival) =>
    h(
      "tr",
      {},
      h("th", { scope: "row" }, h("time", { datetime: arrival.starts_at }, time.format(new Date(arrival.starts_at)))),
      h("td", {}, COUNT.format(arrival.seats)),
    ),
  );
  return h("div", {}, chart, table(`Arrivals through ${list.name}: the figures`, ["From", "Seats"], rows));
}

/**
 * @param {ManagedEvent} event
 * @param {TicketType[]} types
 * @param {CheckInList} list
 */
async function listCard(event, types, list) {
  const line = statusLine(`list-${list.id}`);
  const names = types.filter((type) => list.ticket_type_ids.includes(type.id)).map((type) => type.name);
  const remove = h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": `Delete list: ${list.name}`,
      onclick: () => {
        if (!confirm(`Delete the list "${list.name}" with its scans and scanner keys?`)) return;
        act(
          remove,
          line,
          async () => {
            await api.del(`/check-in-lists/${list.id}`);
            return `Deleted the list "${list.name}".`;
          },
          { andRefresh: true },
        );
      },
    },
    "Delete",
  );
  const save = async (/** @type {{name: string}} */ body) => {
    await api.patch(`/check-in-lists/${list.id}`, body);
    return `Saved the list "${body.name}".`;
  };
  const keys = scannerKeys(list, event.timezone);
  const [chart] = await Promise.all([arrivals(list, event.timezone), keys.draw()]);
  return h(
    "li",
    { class: "card door-list", "data-list": list.id },
    h("h2", {}, list.name),
    countFigures(list.counts),
    h(
      "p",
      {},
      names.length ? `Admits ${names.join(", ")}` : "Admits every ticket type",
      " · ",
      list.allow_reentry ? "re-entry allowed" : "no re-entry",
    ),
    h(
      "div",
      { class: "row-actions" },
      h(
        "a",
        { class: "button primary", href: scannerPath(list.id), "aria-label": `Open scanner: ${list.name}` },
        "Open scanner",
      ),
      remove,
    ),
    line,
    h("details", { id: `edit-list-${list.id}` }, h("summary", {}, `Edit ${list.name}`), listForm(types, list, save)),
    h("h3", {}, "Scanner keys"),
    keys.element,
    h("h3", {}, "Arrivals"),
    chart,
  );
}

/** @param {import("../router.js").PageContext} context */
export async function doorPage({ params, flash, onLeave }) {
  const [, refused] = requireRole("organizer", "admin");
  if (refused) return refused;
  const id = Number(params.id);
  /** @type {[ManagedEvent, {items: CheckInList[]}, {items: TicketType[]}]} */
  const [event, lists, types] = await Promise.all([
    api.get(`/events/${id}`),
    api.get(`/events/${id}/check-in-lists`),
    api.get(`/events/${id}/ticket-types`),
  ]);
  const cards = h(
    "ol",
    { class: "cards", "aria-label": "Check-in lists" },
    await Promise.all(lists.items.map((list) => listCard(event, types.items, list))),
  );
  // People come in while the organizer watches: the counts refresh in place.
  poll(onLeave, POLL_SECONDS, async () => {
    /** @type {{items: CheckInList[]}} */
    const fresh = await api.get(`/events/${id}/check-in-lists`);
    for (const list of fresh.items) {
      const figures = cards.querySelector(`[data-list="${list.id}"] .door-counts`);
      if (figures) showCounts(figures, list.counts);
    }
  });
  const addList = async (/** @type {{name: string}} */ body) => {
    await api.post(`/events/${id}/check-in-lists`, body);
    return `Added the list "${body.name}".`;
  };
  return h(
    "section",
    { class: "door" },
    heading(`Door: ${event.title}`),
    statusLine("page", flash),
    h(
      "p",
      { class: "meta" },
      formatTime(event.starts_at, event.timezone),
      " · ",
      h("a", { href: `/organizer/events/${id}/edit` }, "Edit this event"),
      " · ",
      h("a", { href: `/organizer/events/${id}/guests` }, "Guests"),
      " · ",
      h("a", { href: `/organizer/events/${id}/sales` }, "Sales"),
      " · ",
      h("a", { href: "/organizer" }, "All my events"),
    ),
    h(
      "p",
      {},
      "Each list is an entrance that counts on its own. Give each phone at the door a scanner key: ",
      "its link opens the scanner, with no account.",
    ),
    cards,
    h(
      "details",
      { class: "add", id: "add-list" },
      h("summary", {}, "Add a check-in list"),
      listForm(types.items, null, addList),
    ),
  );
}
