// The admin area: platform stats and users (filters, role, ban and unban), the audit log,
// and notifications that failed to send (retry).

import * as api from "../api.js";
import { act, field, h, heading, pager, statusBadge, statusLine, table } from "../dom.js";
import { navigate } from "../router.js";
import { requireRole } from "./common.js";

const PAGE_SIZE = 20;
const ROLES = ["attendee", "organizer", "admin"];

function adminNav() {
  const link = (href, text) => h("a", { href, "aria-current": location.pathname === href ? "page" : undefined }, text);
  return h("nav", { class: "subnav", "aria-label": "Admin" }, link("/admin", "Users and stats"), link("/admin/audit-log", "Audit log"), link("/admin/notifications", "Failed notifications"));
}

function stats(numbers) {
  const group = (title, counts) => h("div", { class: "stat" }, h("h2", {}, title), h("dl", {}, Object.entries(counts).map(([name, count]) => [h("dt", {}, name), h("dd", {}, String(count))])));
  return h(
    "section",
    { class: "stats", "aria-label": "Platform stats" },
    group("Users", numbers.users),
    group("Events", numbers.events),
    group("Bookings", numbers.bookings),
    group("Seats", { sold: numbers.seats_sold }),
  );
}

/** A filter form whose values live in the URL, so a reload or the back button keeps them. */
function filterForm(path, controls) {
  const onsubmit = (event) => {
    event.preventDefault();
    const values = Object.fromEntries(Object.entries(controls).map(([name, [, control]]) => [name, control.value.trim()]));
    navigate(path + api.query(values));
  };
  return h(
    "form",
    { class: "filters", onsubmit },
    Object.values(controls).map(([label, control]) => field(label, control)),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Filter"), h("a", { href: path, class: "button" }, "Clear")),
  );
}

function options(values, selected, anyLabel) {
  return [h("option", { value: "" }, anyLabel), values.map(([value, text]) => h("option", { value, selected: value === selected }, text))];
}

function userRow(person, me, reload) {
  const line = statusLine();
  const role = h("select", { "aria-label": `Role of ${person.email}` }, ROLES.map((r) => h("option", { value: r, selected: r === person.role }, r)));
  const saveRole = h("button", { type: "button", "aria-label": `Change role of ${person.email}`, onclick: () => act(saveRole, line, async () => {
    await api.patch(`/admin/users/${person.id}`, { role: role.value });
    await reload();
  }) }, "Change role");
  const banLabel = person.is_active ? "Ban" : "Unban";
  const ban = h("button", { type: "button", class: person.is_active ? "danger" : "", "aria-label": `${banLabel} ${person.email}`, onclick: () => {
    if (person.is_active && !confirm(`Ban ${person.email}? Their sessions end and upcoming bookings are cancelled.`)) return;
    act(ban, line, async () => {
      await api.patch(`/admin/users/${person.id}`, { is_active: !person.is_active });
      await reload();
    });
  } }, banLabel);
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, person.full_name, person.id === me.id ? " (you)" : ""),
    h("td", {}, person.email),
    h("td", {}, h("div", { class: "row-actions" }, role, saveRole)),
    h("td", {}, person.is_active ? "active" : statusBadge("banned")),
    h("td", {}, String(person.bookings_count)),
    h("td", {}, String(person.events_count)),
    h("td", {}, ban, line),
  );
}

export async function usersPage({ query }) {
  const [me, refused] = requireRole("admin");
  if (refused) return refused;
  const filters = { q: query.get("q") || "", role: query.get("role") || "", is_active: query.get("is_active") || "" };
  const offset = Number(query.get("offset")) || 0;
  const [numbers, page] = await Promise.all([
    api.get("/admin/stats"),
    api.get("/admin/users" + api.query({ ...filters, limit: PAGE_SIZE, offset })),
  ]);
  const reload = () => navigate(location.pathname + location.search, { replace: true });
  const form = filterForm("/admin", {
    q: ["Name or e-mail", h("input", { name: "q", type: "search", value: filters.q })],
    role: ["Role", h("select", { name: "role" }, options(ROLES.map((r) => [r, r]), filters.role, "any role"))],
    is_active: ["Status", h("select", { name: "is_active" }, options([["true", "active"], ["false", "banned"]], filters.is_active, "any status"))],
  });
  return h(
    "section",
    {},
    heading("Admin"),
    adminNav(),
    stats(numbers),
    h("h2", {}, "Users"),
    form,
    table("Users", ["Name", "E-mail", "Role", "Status", "Bookings", "Events", "Ban"], page.items.map((u) => userRow(u, me, reload))),
    pager(page, (next) => navigate("/admin" + api.query({ ...filters, offset: next || undefined }))),
  );
}

const ACTIONS = ["admin.created", "user.role_changed", "user.banned", "user.unbanned", "event.cancelled", "event.deleted", "booking.cancelled_by_admin"];

export async function auditPage({ query }) {
  const [, refused] = requireRole("admin");
  if (refused) return refused;
  const filters = { action: query.get("action") || "", actor_id: query.get("actor_id") || "" };
  const offset = Number(query.get("offset")) || 0;
  const page = await api.get("/admin/audit-log" + api.query({ ...filters, limit: PAGE_SIZE, offset }));
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
  return h(
    "section",
    {},
    heading("Audit log"),
    adminNav(),
    filterForm("/admin/audit-log", {
      action: ["Action", h("select", { name: "action" }, options(ACTIONS.map((a) => [a, a]), filters.action, "any action"))],
      actor_id: ["Actor (user id)", h("input", { name: "actor_id", inputmode: "numeric", value: filters.actor_id })],
    }),
    page.total ? table("Audit log, newest first", ["When", "Who", "Action", "Target", "Detail"], rows) : h("p", {}, "No entries match."),
    pager(page, (next) => navigate("/admin/audit-log" + api.query({ ...filters, offset: next || undefined }))),
  );
}

export async function notificationsPage({ query }) {
  const [, refused] = requireRole("admin");
  if (refused) return refused;
  const offset = Number(query.get("offset")) || 0;
  const page = await api.get("/admin/notifications" + api.query({ status: "failed", limit: PAGE_SIZE, offset }));
  const reload = () => navigate(location.pathname + location.search, { replace: true });
  const rows = page.items.map((notification) => {
    const line = statusLine();
    const retry = h("button", { type: "button", "aria-label": `Retry ${notification.kind} to ${notification.recipient}`, onclick: () => act(retry, line, async () => {
      await api.post(`/admin/notifications/${notification.id}/retry`);
      await reload();
    }) }, "Retry");
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
  });
  return h(
    "section",
    {},
    heading("Failed notifications"),
    adminNav(),
    page.total ? table("Notifications that could not be sent", ["Created", "Kind", "To", "Attempts", "Last error", "Retry"], rows) : h("p", {}, "No failed notifications."),
    pager(page, (next) => navigate("/admin/notifications" + api.query({ offset: next || undefined }))),
  );
}
