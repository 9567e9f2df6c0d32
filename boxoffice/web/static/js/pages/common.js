// Pieces several pages share.

import * as api from "../api.js";
import { h, heading } from "../dom.js";
import { navigate } from "../router.js";

/** `/login?next=` back to this page. */
function logInHere() {
  return `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
}

/** The log-in page, saying the session has ended; that navigation overtakes this render. */
function sessionEnded() {
  navigate(logInHere(), { replace: true, flash: "Your session has ended; please log in again." });
  return h("p", {}, "Please log in.");
}

/**
 * Unknown URLs, and pages whose data could not be loaded (the API's detail is shown).
 * @param {import("../router.js").PageContext} context
 */
export function failedPage({ error }) {
  if (!error) {
    return h(
      "section",
      {},
      heading("Page not found"),
      h("p", {}, "There is no such page. ", h("a", { href: "/" }, "See all events"), "."),
    );
  }
  if (error instanceof api.ApiError && error.status === 401 && !api.user()) {
    // The session ended while this tab held it (banned, logged out elsewhere): log in again
    // and come back here.
    api.takeSessionEnd();
    return sessionEnded();
  }
  const detail = error instanceof api.ApiError ? error.detail : String(error);
  return h(
    "section",
    {},
    heading(error instanceof api.ApiError && error.status === 404 ? "Not found" : "Something went wrong"),
    h("p", { class: "status error", role: "alert" }, detail),
    h("p", {}, h("a", { href: "/" }, "Back to the events")),
  );
}

/**
 * The logged-in user if their role may see this page; otherwise a page that says what to do.
 * @param {...api.User["role"]} roles
 * @returns {[api.User, null] | [null, HTMLElement]}
 */
export function requireRole(...roles) {
  const user = api.user();
  // The session this tab held ended (logged out in another tab, say): the log-in page says so.
  if (!user && api.takeSessionEnd()) return [null, sessionEnded()];
  if (!user) {
    return [
      null,
      h(
        "section",
        {},
        heading("Please log in"),
        h(
          "p",
          {},
          h("a", { href: logInHere() }, "Log in"),
          " to see this page, or ",
          h("a", { href: "/signup" }, "sign up"),
          ".",
        ),
      ),
    ];
  }
  if (!roles.includes(user.role)) {
    const refusal = `This page is for ${roles.join(" and ")} accounts; you are logged in as ${user.role}.`;
    return [null, h("section", {}, heading("Not available"), h("p", {}, refusal))];
  }
  return [user, null];
}

/**
 * Refreshes while the tab is visible; stops when the page is left.
 * @param {(cleanup: () => void) => void} onLeave
 * @param {number} seconds
 * @param {() => Promise<void>} work
 */
export function poll(onLeave, seconds, work) {
  const timer = setInterval(() => {
    if (document.visibilityState === "visible") work().catch(() => {});
  }, seconds * 1000);
  onLeave(() => clearInterval(timer));
}

/** @param {{status: string, seats_available: number, capacity: number, waitlist_count: number}} event */
export function seatsLeft(event) {
  if (event.status !== "published") return event.status;
  if (event.seats_available > 0) return `${event.seats_available} of ${event.capacity} seats left`;
  return event.waitlist_count ? `sold out · ${event.waitlist_count} waiting` : "sold out";
}
