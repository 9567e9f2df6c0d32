// Sign up and log in.

import * as api from "../api.js";
import { act, field, formValues, h, heading, statusLine } from "../dom.js";
import { navigate } from "../router.js";

/**
 * Where a login continues: `next` if it is a page of this site, else the user's usual start.
 * @param {api.User} user
 * @param {URLSearchParams} query
 */
function landing(user, query) {
  const next = query.get("next");
  if (next?.startsWith("/")) {
    // Parsed as the browser will: "/\evil.example" and "/\t/evil.example" lead elsewhere.
    const url = new URL(next, location.origin);
    if (url.origin === location.origin) return url.pathname + url.search + url.hash;
  }
  return { attendee: "/", organizer: "/organizer", admin: "/admin" }[user.role];
}

/**
 * The submit handler of an account form: `work` gets its fields, then the person is logged in
 * and goes on.
 * @param {URLSearchParams} query
 * @param {HTMLElement} line
 * @param {(values: Record<string, string>) => Promise<void>} work
 */
function onAccountSubmit(query, line, work) {
  return (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    act(button, line, async () => {
      const values = formValues(form);
      await work(values);
      await api.logIn(values.email.trim(), values.password);
      const user = /** @type {api.User} */ (api.user());
      navigate(landing(user, query));
    });
  };
}

/** @param {import("../router.js").PageContext} context */
export function loginPage({ query, flash }) {
  const line = statusLine("login", flash);
  return h(
    "section",
    { class: "narrow" },
    heading("Log in"),
    h(
      "form",
      { onsubmit: onAccountSubmit(query, line, async () => {}) },
      field("E-mail", h("input", { name: "email", type: "email", autocomplete: "username", required: true })),
      field(
        "Password",
        h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }),
      ),
      h("button", { type: "submit", class: "primary" }, "Log in"),
      line,
    ),
    h("p", {}, "No account yet? ", h("a", { href: "/signup" }, "Sign up"), "."),
  );
}

/** @param {import("../router.js").PageContext} context */
export function signupPage({ query }) {
  const line = statusLine("signup");
  const register = async (/** @type {Record<string, string>} */ values) => {
    const { full_name, email, password, role } = values;
    await api.post("/auth/register", { full_name: full_name.trim(), email: email.trim(), password, role });
  };
  return h(
    "section",
    { class: "narrow" },
    heading("Sign up"),
    h(
      "form",
      { onsubmit: onAccountSubmit(query, line, register) },
      field("Full name", h("input", { name: "full_name", autocomplete: "name", required: true, maxlength: 200 })),
      field("E-mail", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
      field(
        "Password",
        h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
        "At least 8 characters.",
      ),
      field(
        "Account type",
        h(
          "select",
          { name: "role" },
          h("option", { value: "attendee" }, "Attendee: I want to book seats"),
          h("option", { value: "organizer" }, "Organizer: I want to publish events"),
        ),
      ),
      h("button", { type: "submit", class: "primary" }, "Sign up"),
      line,
    ),
    h("p", {}, "Already have an account? ", h("a", { href: "/login" }, "Log in"), "."),
  );
}
