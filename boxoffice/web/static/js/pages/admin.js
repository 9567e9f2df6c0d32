// The admin area: platform stats and users (filters, role, ban and unban), one user's page
// (erasure), the audit log, and notifications that failed to send (retry).

import * as api from "../api.js";
import { act, field, h, heading, pager, statusBadge, statusLine, table } from "../dom.js";
import { requireRole } from "./common.js";

const PAGE_SIZE = 20;
/** @type {api.User["role"][]} */
const ROLES = ["attendee", "organizer", "admin"];

function adminNav() {
  const link = (/** @type {string} */ href, /** @type {string} */ text) =>
    h("a", { href, "aria-current": location.pathname === href ? "page" : undefined }, text);
  return h(
    "nav",
    { class: "subnav", "aria-label": "Admin" },
    link("/admin", "Users and stats"),
    link("/admin/audit-log", "Audit log"),
    link("/admin/notifications", "Failed notifications"),
  );
}

/** @param {{users: Record<string, number>, events: Record<string, number>, bookings: Record<string, number>, seats_sold: number}} numbers */
function stats(numbers) {
  const group = (/** @type {string} */ title, /** @type {Record<string, number>} */ counts) =>
    h(
      "div",
      { class: "stat" },
      h("h2", {}, title),
      h(
        "dl",
        {},
        Object.entries(counts).map(([name, count]) => [h("dt", {}, name), h("dd", {}, String(count))]),
      ),
    );
  return h(
    "section",
    { class: "stats", "aria-label": "Platform stats" },
    group("Users", numbers.users),
    group("Events", numbers.events),
    group("Bookings", numbers.bookings),
    group("Seats", { sold: numbers.seats_sold }),
  );
}

/**
 * A filter form whose values live in the URL, so a reload or the back button keeps them: a plain
 * GET form (see router.js).
 * @param {string} path
 * @param {[string, HTMLElement][]} fields label and control
 */
function filterForm(path, fields) {
  return h(
    "form",
    { class: "filters", method: "get", action: path },
    fields.map(([label, control]) => field(label, control)),
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Filter"),
      h("a", { href: path, class: "button" }, "Clear"),
    ),
  );
}

/**
 * A select of `values` ([value, text]) with an "any" choice first.
 * @param {string} name
 * @param {string[][]} values
 * @param {string | null} selected
 * @param {string} anyLabel
 */
function choice(name, values, selected, anyLabel) {
  return h(
    "select",
    { name },
    h("option", { value: "" }, anyLabel),
    values.map(([value, text]) => h("option", { value, selected: value === selected }, text)),
  );
}

/**
 * @typedef {object} Person
 * @property {number} id
 * @property {string} full_name
 * @property {string} email
 * @property {api.User["role"]} role
 * @property {boolean} is_active
 * @property {number} bookings_count
 * @property {number} events_count
 */

const userPath = (/** @type {number} */ id) => `/admin/users/${id}`;

function userRow(/** @type {Person} */ person, /** @type {api.User} */ me) {
  const line = statusLine(`user-${person.id}`);
  const role = h(
    "select",
    { "aria-label": `Role of ${person.email}` },
    ROLES.map((r) => h("option", { value: r, selected: r === person.role }, r)),
  );
  const changeRole = async () => {
    await api.patch(`/admin/users/${person.id}`, { role: role.value });
    return `${person.email} is now ${role.value}.`;
  };
  const saveRole = h(
    "button",
    {
      type: "button",
      "aria-label": `Change role of ${person.email}`,
      onclick: () => act(saveRole, line, changeRole, { andRefresh: true }),
    },
    "Change role",
  );
  const banLabel = person.is_active ? "Ban" : "Unban";
  const toggleBan = async () => {
    await api.patch(`/admin/users/${person.id}`, { is_active: !person.is_active });
    return person.is_active ? `Banned ${person.email}.` : `Unbanned ${person.email}.`;
  };
  const ban = h(
    "button",
    {
      type: "button",
      class: person.is_active ? "danger" : "",
      "aria-label": `${banLabel} ${person.email}`,
      onclick: () => {
        const question = `Ban ${person.email}? Their sessions end and upcoming bookings are cancelled.`;
        if (person.is_active && !confirm(question)) return;
        act(ban, line, toggleBan, { andRefresh: true });
      },
    },
    banLabel,
  );
  return h(
    "tr",
    {},
    h(
      "th",
      { scope: "row" },
      h("a", { href: userPath(person.id) }, person.full_name),
      person.id === me.id ? " (you)" : "",
    ),
    h("td", {}, person.email),
    h("td", {}, h("div", { class: "row-actions" }, role, saveRole)),
    h("td", {}, person.is_active ? "active" : statusBadge("banned")),
    h("td", {}, String(person.bookings_count)),
    h("td", {}, String(person.events_count)),
    h("td", {}, ban, line),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function usersPage({ query }) {
  const [me, refused] = requireRole("admin");
  if (refused) return refused;
  const filters = { q: query.get("q"), role: query.get("role"), is_active: query.get("is_active") };
  const offset = Number(query.get("offset")) || 0;
  /** @type {[any, {items: Person[], total: number, limit: number, offset: number}]} */
  const [numbers, page] = await Promise.all([
    api.get("/admin/stats"),
    api.get(`/admin/users${api.query({ ...filters, limit: PAGE_SIZE, offset })}`),
  ]);
  const roles = ROLES.map((r) => [r, r]);
  const statuses = [
    ["true", "active"],
    ["false", "banned"],
  ];
  const headers = ["Name", "E-mail", "Role", "Status", "Bookings", "Events", "Ban"];
  return h(
    "section",
    {},
    heading("Admin"),
    adminNav(),
    stats(numbers),
    h("h2", {}, "Users"),
    filterForm("/admin", [
      ["Name or e-mail", h("input", { name: "q", type: "search", value: filters.q })],
      ["Role", choice("role", roles, filters.role, "any role")],
      ["Status", choice("is_active", statuses, filters.is_active, "any status")],
    ]),
    table(
      "Users",
      headers,
      page.items.map((person) => userRow(person, me)),
    ),
    pager(page),
  );
}

// What is left of an erased account has an address in the reserved `.invalid` domain, which
// registration refuses, so no other account has one (docs/privacy.md).
const isErased = (/** @type {Person} */ person) => person.email.endsWith("@invalid");

/**
 * @typedef {Person & {
 *   created_at: string,
 *   recent_bookings: import("./common.js").Booking[],
 *   recent_events: {id: number, title: string, status: string}[],
 * }} UserDetail
 */

/** Erasing someone else's account, after a question that says what it does. */
function eraseSection(/** @type {UserDetail} */ person, /** @type {api.User} */ me, /** @type {HTMLElement} */ line) {
  if (isErased(person)) return h("p", {}, "This account has been erased.");
  if (person.id === me.id) {
    return h(
      "p",
      {},
      "This is your own account: another admin can erase it, or you can delete it on ",
      h("a", { href: "/account" }, "My account"),
      ".",
    );
  }
  const erase = async () => {
    await api.post(`/admin/users/${person.id}/erase`);
    return `Erased ${person.email}: the account is now "Deleted user".`;
  };
  const question =
    `Erase ${person.email}? Their upcoming bookings are cancelled and paid ones refunded, ` +
    "their name and e-mail address are erased and they can never log in again. This cannot be undone.";
  const button = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: () => {
        if (confirm(question)) act(button, line, erase, { andRefresh: true });
      },
    },
    "Erase account",
  );
  return h(
    "section",
    { class: "panel danger-zone", "aria-labelledby": "erase-heading" },
    h("h2", { id: "erase-heading" }, "Erase this account"),
    h(
      "p",
      {},
      "Cancels their upcoming bookings (paid ones are refunded), erases their name and e-mail address and ends " +
        "their sessions for good. Their past bookings and payments stay in the records as those of " +
        '"Deleted user". An organizer whose events still to come have bookings must cancel those events first.',
    ),
    button,
  );
}

/** @param {import("../router.js").PageContext} context */
export async function userPage({ params }) {
  const [me, refused] = requireRole("admin");
  if (refused) return refused;
  /** @type {UserDetail} */
  const person = await api.get(`/admin/users/${params.id}`);
  // Outside the erase section, which an erasure replaces: the outcome stays in view.
  const line = statusLine("erase");
  const status = isErased(person) ? statusBadge("erased") : person.is_active ? "active" : statusBadge("banned");
  const bookings = person.recent_bookings.map((booking) =>
    h(
      "li",
      {},
      h("a", { href: `/events/${booking.event_id}` }, booking.event.title),
      ` · ${booking.seats} seat${booking.seats > 1 ? "s" : ""} · `,
      statusBadge(booking.status),
    ),
  );
  const events = person.recent_events.map((event) =>
    h("li", {}, h("a", { href: `/events/${event.id}` }, event.title), " · ", statusBadge(event.status)),
  );
  return h(
    "section",
    { class: "narrow" },
    heading(person.full_name),
    adminNav(),
    h(
      "dl",
      { class: "facts" },
      [
        ["E-mail", person.email],
        ["Role", person.role],
        ["Status", status],
        ["Since", new Date(person.created_at).toLocaleDateString()],
        ["Bookings", String(person.bookings_count)],
        ["Events", String(person.events_count)],
      ].map(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
    ),
    h("h2", {}, "Latest bookings"),
    bookings.length ? h("ul", {}, bookings) : h("p", {}, "None."),
    h("h2", {}, "Latest events organized"),
    events.length ? h("ul", {}, events) : h("p", {}, "None."),
    eraseSection(person, me, line),
    line,
  );
}

const ACTIONS = [
  "admin.created",
  "user.role_changed",
  "user.banned",
  "user.unbanned",
  "event.cancelled",
  "event.deleted",
  "booking.cancelled_by_admin",
  "user.erased",
];

/**
 * @typedef {object} AuditEntry
 * @property {string} at
 * @property {number | null} actor_id
 * @property {string} action
 * @property {string} target_type
 * @property {number | string} target_id
 * @property {unknown} detail
 */

/** @param {import("../router.js").PageContext} context */
export async function auditPage({ query }) {
  const [, refused] = requireRole("admin");
  if (refused) return refused;
  const filters = { action: query.get("action"), actor_id: query.get("actor_id") };
  const offset = Number(query.get("offset")) || 0;
  /** @type {{items: AuditEntry[], total: number, limit: number, offset: number}} */
  const page = await api.get(`/admin/audit-log${api.query({ ...filters, limit: PAGE_SIZE, offset })}`);
  const rows = page.items.map((entry) =>
    h(
      "tr",
      {},
      h("td", {}, new Date(entry.at).toLocaleString()),
      h("td", {}, entry.actor_id === null ? "command line" : `user ${entry.actor_id}`),
      h("th", { scope: "row" }, entry.action),
      h("td", {}, `${entry.target_type} ${entry.target_id}`),
      h("td", { class: "detail" }, JSON.stringify(entry.detail)),
    ),
  );
  const headers = ["When", "Who", "Action", "Target", "Detail"];
  return h(
    "section",
    {},
    heading("Audit log"),
    adminNav(),
    filterForm("/admin/audit-log", [
      [
        "Action",
        choice(
          "action",
          ACTIONS.map((a) => [a, a]),
          filters.action,
          "any action",
        ),
      ],
      ["Actor (user id)", h("input", { name: "actor_id", inputmode: "numeric", value: filters.actor_id })],
    ]),
    page.total ? table("Audit log, newest first", headers, rows) : h("p", {}, "No entries match."),
    pager(page),
  );
}

/**
 * @typedef {object} Notification
 * @property {number} id
 * @property {string} created_at
 * @property {string} kind
 * @property {string} recipient
 * @property {number} attempts
 * @property {string | null} last_error
 */

function notificationRow(/** @type {Notification} */ notification) {
  const line = statusLine(`notification-${notification.id}`);
  const retryNow = async () => {
    await api.post(`/admin/notifications/${notification.id}/retry`);
  };
  const retry = h(
    "button",
    {
      type: "button",
      "aria-label": `Retry ${notification.kind} to ${notification.recipient}`,
      onclick: () => act(retry, line, retryNow, { andRefresh: true }),
    },
    "Retry",
  );
  return h(
    "tr",
    {},
    h("td", {}, new Date(notification.created_at).toLocaleString()),
    h("th", { scope: "row" }, notification.kind),
    h("td", {}, notification.recipient),
    h("td", {}, String(notification.attempts)),
    h("td", { class: "detail" }, notification.last_error || ""),
    h("td", {}, retry, line),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function notificationsPage({ query }) {
  const [, refused] = requireRole("admin");
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  /** @type {{items: Notification[], total: number, limit: number, offset: number}} */
  const page = await api.get(`/admin/notifications${api.query({ status: "failed", limit: PAGE_SIZE, offset })}`);
  const headers = ["Created", "Kind", "To", "Attempts", "Last error", "Retry"];
  return h(
    "section",
    {},
    heading("Failed notifications"),
    adminNav(),
    page.total
      ? table("Notifications that could not be sent", headers, page.items.map(notificationRow))
      : h("p", {}, "No failed notifications."),
    pager(page),
  );
}
