// Entry point: the navigation bar for whoever is logged in, and the table of pages.

import * as api from "./api.js";
import { act, h, statusLine } from "./dom.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import * as auth from "./pages/auth.js";
import * as bookings from "./pages/bookings.js";
import * as catalogue from "./pages/catalogue.js";
import * as checkout from "./pages/checkout.js";
import { failedPage } from "./pages/common.js";
import * as door from "./pages/door.js";
import * as events from "./pages/events.js";
import * as organizer from "./pages/organizer.js";
import * as sales from "./pages/sales.js";
import * as scanner from "./pages/scanner.js";
import { afterShow, fallback, navigate, refresh, route, start } from "./router.js";

// Fetched rather than imported as a JSON module, which older browsers cannot load at all.
const listed = await fetch(new URL("pages.json", import.meta.url));
if (!listed.ok) throw new Error(`pages.json: ${listed.status} ${listed.statusText}`);
/** @type {{path: string, page: string, document?: string}[]} */
const PAGES = await listed.json();

/** @type {Record<string, import("./router.js").Page>} */
const renderers = {
  ...account,
  ...admin,
  ...auth,
  ...bookings,
  ...catalogue,
  ...checkout,
  ...door,
  ...events,
  ...organizer,
  ...sales,
  ...scanner,
};
for (const { path, page, document: documentName } of PAGES) {
  if (!renderers[page]) throw new Error(`pages.json: no page function ${page} for ${path}`);
  route(path, renderers[page], documentName);
}
fallback(failedPage);

// The page itself is "page"; an area it belongs to (Admin for the audit log) is "true".
function link(/** @type {string} */ href, /** @type {string} */ text) {
  const inside = href !== "/" && location.pathname.startsWith(`${href}/`);
  const current = location.pathname === href ? "page" : inside ? "true" : undefined;
  return h("a", { href, "aria-current": current }, text);
}

function renderNav(/** @type {api.User | null} */ user) {
  /** @type {HTMLElement[]} */
  const items = [link("/", "Events")];
  if (!user) {
    items.push(link("/login", "Log in"), link("/signup", "Sign up"));
  } else {
    if (user.role === "attendee") items.push(link("/bookings", "My bookings"));
    if (user.role === "organizer" || user.role === "admin") items.push(link("/organizer", "My events"));
    if (user.role === "admin") items.push(link("/admin", "Admin"));
    const logOut = h(
      "button",
      {
        type: "button",
        class: "link-button",
        onclick: async () => {
          logOut.disabled = true;
          await api.logOut();
          navigate("/");
        },
      },
      "Log out",
    );
    items.push(link("/account", "My account"), h("span", { class: "who" }, `${user.full_name} (${user.role})`), logOut);
  }
  /** @type {HTMLElement} */ (document.getElementById("nav")).replaceChildren(...items);
  renderBanner(user);
}

/** Until a signed-in person's address is verified, every page says so and offers a new link. */
function renderBanner(/** @type {api.User | null} */ user) {
  const banner = /** @type {HTMLElement} */ (document.getElementById("banner"));
  if (!user || user.email_verified) {
    banner.replaceChildren();
    return;
  }
  // Drawn again after every page: a status line already there keeps what it says.
  if (banner.dataset.for === user.email && banner.firstChild) return;
  banner.dataset.for = user.email;
  const line = statusLine("verify-banner");
  const again = h(
    "button",
    {
      type: "button",
      class: "link-button",
      onclick: () =>
        act(again, line, async () => {
          await api.post("/auth/verify-email/request");
          return `We sent a new link to ${user.email}; it works for 48 hours.`;
        }),
    },
    "Send the link again",
  );
  banner.replaceChildren(
    h(
      "div",
      { class: "verify-banner", role: "region", "aria-label": "Unverified address" },
      h("p", {}, `Your address ${user.email} is not verified yet: follow the link we mailed to it. `, again),
      line,
    ),
  );
}

api.onSessionChange(renderNav);
// A page that needs the session that just ended goes to the log-in page; others show less.
api.onSessionEnd(refresh);
afterShow(() => renderNav(api.user()));

await api.resume();
await start();
