// Entry point: the navigation bar for whoever is logged in, and the table of pages.

import * as api from "./api.js";
import { h } from "./dom.js";
import { afterShow, fallback, navigate, route, start } from "./router.js";
import * as admin from "./pages/admin.js";
import * as auth from "./pages/auth.js";
import * as bookings from "./pages/bookings.js";
import * as events from "./pages/events.js";
import * as organizer from "./pages/organizer.js";
import { failedPage } from "./pages/common.js";

route("/", events.listPage);
route("/events/:id", events.eventPage);
route("/login", auth.loginPage);
route("/signup", auth.signupPage);
route("/bookings", bookings.myBookingsPage);
route("/organizer", organizer.dashboardPage);
route("/organizer/events/new", organizer.newEventPage);
route("/organizer/events/:id/edit", organizer.editEventPage);
route("/organizer/events/:id/guests", organizer.guestsPage);
route("/admin", admin.usersPage);
route("/admin/audit-log", admin.auditPage);
route("/admin/notifications", admin.notificationsPage);
fallback(failedPage);

// The page itself is "page"; an area it belongs to (Admin for the audit log) is "true".
function link(href, text) {
  const inside = href !== "/" && location.pathname.startsWith(`${href}/`);
  const current = location.pathname === href ? "page" : inside ? "true" : undefined;
  return h("a", { href, "aria-current": current }, text);
}

function renderNav(user) {
  const items = [link("/", "Events")];
  if (!user) {
    items.push(link("/login", "Log in"), link("/signup", "Sign up"));
  } else {
    if (user.role === "attendee") items.push(link("/bookings", "My bookings"));
    if (user.role === "organizer" || user.role === "admin") items.push(link("/organizer", "My events"));
    if (user.role === "admin") items.push(link("/admin", "Admin"));
    const logOut = h("button", { type: "button", class: "link-button", onclick: async () => {
      logOut.disabled = true;
      await api.logOut();
      navigate("/");
    } }, "Log out");
    items.push(h("span", { class: "who" }, `${user.full_name} (${user.role})`), logOut);
  }
  document.getElementById("nav").replaceChildren(...items);
}

api.onSessionChange(renderNav);
afterShow(() => renderNav(api.user()));

await api.resume();
await start();
