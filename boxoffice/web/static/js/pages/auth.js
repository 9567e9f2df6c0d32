// Sign up and log in.

import * as api from "../api.js";
import { act, field, formValues, h, heading, say, statusLine } from "../dom.js";
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
    h("p", {}, h("a", { href: "/forgot-password" }, "Forgot password?")),
    h("p", {}, "No account yet? ", h("a", { href: "/signup" }, "Sign up"), "."),
  );
}

/**
 * The one-time token of a link (`#token=...`): in the fragment, which the browser sends to no
 * server, so that no access log holds it.
 */
function tokenOfLink() {
  return new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
}

/** @param {import("../router.js").PageContext} _context */
export function forgotPasswordPage(_context) {
  const line = statusLine("forgot");
  /** @param {SubmitEvent} event */
  const onsubmit = (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    act(button, line, async () => {
      await api.post("/auth/password-reset/request", { email: formValues(form).email.trim() });
      return "If an account exists for this address, we sent it a link to choose a new password. It works for 1 hour.";
    });
  };
  return h(
    "section",
    { class: "narrow" },
    heading("Forgot password"),
    h("p", {}, "Give the address of your account: we send it a link to choose a new password."),
    h(
      "form",
      { onsubmit },
      field("E-mail", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
      h("button", { type: "submit", class: "primary" }, "Send the link"),
      line,
    ),
    h("p", {}, h("a", { href: "/login" }, "Back to log in")),
  );
}

/** @param {import("../router.js").PageContext} _context */
export function resetPasswordPage(_context) {
  const token = tokenOfLink();
  const line = statusLine("reset");
  /** @param {SubmitEvent} event */
  const onsubmit = (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    act(button, line, async () => {
      const { password, repeated } = formValues(form);
      if (password !== repeated) throw new Error("The two passwords differ; type the same one twice.");
      await api.post("/auth/password-reset", { token, new_password: password });
      form.reset();
      navigate("/login", { flash: "Your password is changed and every session ended. Log in with the new one." });
    });
  };
  if (!token) {
    return h(
      "section",
      { class: "narrow" },
      heading("Choose a new password"),
      h("p", {}, "This link has no token. ", h("a", { href: "/forgot-password" }, "Ask for a new link"), "."),
    );
  }
  return h(
    "section",
    { class: "narrow" },
    heading("Choose a new password"),
    h(
      "form",
      { onsubmit },
      field(
        "New password",
        h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
        "At least 8 characters.",
      ),
      field(
        "New password again",
        h("input", { name: "repeated", type: "password", autocomplete: "new-password", required: true, minlength: 8 }),
      ),
      h("button", { type: "submit", class: "primary" }, "Set the password"),
      line,
    ),
    h("p", {}, "Link expired? ", h("a", { href: "/forgot-password" }, "Ask for a new one"), "."),
  );
}

/** @param {import("../router.js").PageContext} _context */
export function verifyEmailPage(_context) {
  const token = tokenOfLink();
  const line = statusLine("verify", "Verifying your address…");
  const verify = async () => {
    try {
      const user = /** @type {api.User} */ (await api.post("/auth/verify-email", { token }));
      say(line, `Done: ${user.email} is verified.`);
      await api.reloadUser();
    } catch (error) {
      const expired = error instanceof api.ApiError && error.code === "invalid_token";
      say(
        line,
        expired
          ? "This link is invalid or has expired. Log in and ask for a new one."
          : error instanceof api.ApiError
            ? error.detail
            : String(error),
        "error",
      );
    }
  };
  if (token) verify();
  else say(line, "This link has no token. Log in and ask for a new one.", "error");
  return h("section", { class: "narrow" }, heading("Verify your e-mail address"), line);
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
