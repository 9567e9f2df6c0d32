// Sign up and log in.

import * as api from "../api.js";
import { act, field, h, heading, statusLine } from "../dom.js";
import { navigate } from "../router.js";

// Only a page of this UI, never another site, is where a login continues.
function nextPage(query) {
  const next = query.get("next") || "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function landing(user, query) {
  if (query.get("next")) return nextPage(query);
  return { organizer: "/organizer", admin: "/admin" }[user.role] || "/";
}

export function loginPage({ query }) {
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "primary" }, "Log in");
  const line = statusLine();
  const onsubmit = (event) => {
    event.preventDefault();
    act(button, line, async () => {
      await api.logIn(email.value.trim(), password.value);
      navigate(landing(api.user(), query));
    });
  };
  return h(
    "section",
    { class: "narrow" },
    heading("Log in"),
    h("form", { onsubmit }, field("E-mail", email), field("Password", password), button, line),
    h("p", {}, "No account yet? ", h("a", { href: "/signup" }, "Sign up"), "."),
  );
}

export function signupPage({ query }) {
  const fullName = h("input", { name: "full_name", autocomplete: "name", required: true, maxlength: 200 });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password", required: true, minlength: 8 });
  const role = h(
    "select",
    { name: "role" },
    h("option", { value: "attendee" }, "Attendee: I want to book seats"),
    h("option", { value: "organizer" }, "Organizer: I want to publish events"),
  );
  const button = h("button", { type: "submit", class: "primary" }, "Sign up");
  const line = statusLine();
  const onsubmit = (event) => {
    event.preventDefault();
    act(button, line, async () => {
      await api.post("/auth/register", { full_name: fullName.value.trim(), email: email.value.trim(), password: password.value, role: role.value });
      await api.logIn(email.value.trim(), password.value);
      navigate(landing(api.user(), query));
    });
  };
  return h(
    "section",
    { class: "narrow" },
    heading("Sign up"),
    h(
      "form",
      { onsubmit },
      field("Full name", fullName),
      field("E-mail", email),
      field("Password", password, "At least 8 characters."),
      field("Account type", role),
      button,
      line,
    ),
    h("p", {}, "Already have an account? ", h("a", { href: "/login" }, "Log in"), "."),
  );
}
