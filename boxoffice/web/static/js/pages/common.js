// Pieces several pages share.

import * as api from "../api.js";
import { h, heading } from "../dom.js";

/** Unknown URLs, and pages whose data could not be loaded (the API's detail is shown). */
export function failedPage({ error }) {
  if (!error) {
    return h("section", {}, heading("Page not found"), h("p", {}, "There is no such page. ", h("a", { href: "/" }, "See all events"), "."));
  }
  return h("section", {}, heading(error.status === 404 ? "Not found" : "Something went wrong"), h("p", { class: "status error", role: "alert" }, error.detail || String(error)), h("p", {}, h("a", { href: "/" }, "Back to the events")));
}

/**
 * The logged-in user if their role may see this page; otherwise a page that says what to do.
 * Returns [user, null] or [null, page].
 */
export function requireRole(...roles) {
  const user = api.user();
  if (!user) {
    const next = encodeURIComponent(location.pathname + location.search);
    return [null, h("section", {}, heading("Please log in"), h("p", {}, h("a", { href: `/login?next=${next}` }, "Log in"), " to see this page, or ", h("a", { href: "/signup" }, "sign up"), "."))];
  }
  if (!roles.includes(user.role)) {
    return [null, h("section", {}, heading("Not available"), h("p", {}, `This page is for ${roles.join(" and ")} accounts; you are logged in as ${user.role}.`))];
  }
  return [user, null];
}

/** Refreshes while the tab is visible; stops when the page is left. */
export function poll(onLeave, seconds, work) {
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") work().catch(() => {});
  }, seconds * 1000);
  onLeave(() => clearInterval(timer));
}

export function seatsLeft(event) {
  if (event.status !== "published") return event.status === "cancelled" ? "cancelled" : event.status;
  if (event.seats_available > 0) return `${event.seats_available} of ${event.capacity} seats left`;
  return event.waitlist_count ? `sold out · ${event.waitlist_count} waiting` : "sold out";
}
