// The signed-in person's own account: a copy of their data, and deleting the account (SPEC §13).

import * as api from "../api.js";
import { act, field, formValues, h, heading, saveFile, statusLine } from "../dom.js";
import { navigate } from "../router.js";
import { requireRole } from "./common.js";

/** The export as the API sends it, saved under the name its Content-Disposition gives. */
function exportSection(/** @type {api.User} */ user) {
  const line = statusLine("export");
  const download = async () => {
    const data = await api.get("/users/me/export");
    saveFile(
      new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }),
      `boxoffice-export-${user.id}.json`,
    );
    return "Your data was downloaded.";
  };
  const button = h(
    "button",
    { type: "button", class: "primary", onclick: () => act(button, line, download) },
    "Download my data",
  );
  return h(
    "section",
    { class: "panel", "aria-labelledby": "export-heading" },
    h("h2", { id: "export-heading" }, "Your data"),
    h(
      "p",
      {},
      "One JSON file with your profile, your bookings with their tickets and payments, your sessions, " +
        "the messages we wrote to you, the events you organize and the changes recorded about your account.",
    ),
    button,
    line,
  );
}

/**
 * Which messages besides bookings, payments and cancellations are mailed (SPEC §13); the same
 * two switches a message's unsubscribe link turns off.
 */
function mailSection(/** @type {api.User} */ user) {
  const line = statusLine("mail");
  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    act(button, line, async () => {
      const chosen = formValues(form);
      await api.patch("/users/me", {
        notify_reminders: "notify_reminders" in chosen,
        notify_changes: "notify_changes" in chosen,
      });
      await api.reloadUser();
      return "Your e-mail choices were saved.";
    });
  };
  /** @param {"notify_reminders" | "notify_changes"} name @param {string} label */
  const choice = (name, label) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name, checked: user[name] }), ` ${label}`);
  return h(
    "section",
    { class: "panel", "aria-labelledby": "mail-heading" },
    h("h2", { id: "mail-heading" }, "E-mail"),
    h("p", {}, "Messages about your bookings, payments and cancellations always come."),
    h(
      "form",
      { onsubmit: submit },
      choice("notify_reminders", "E-mail me reminders before my events"),
      choice("notify_changes", "E-mail me when an event I booked changes"),
      h("button", { type: "submit", class: "primary" }, "Save e-mail choices"),
      line,
    ),
  );
}

/** Deleting the account: what it does in plain words, then the password as the confirmation. */
function deleteSection(/** @type {api.User} */ user) {
  const line = statusLine("delete");
  /** @param {SubmitEvent} event */
  const submit = (event) => {
    event.preventDefault();
    const form = /** @type {HTMLFormElement} */ (event.currentTarget);
    const button = /** @type {HTMLButtonElement} */ (form.querySelector("button[type=submit]"));
    act(button, line, async () => {
      await api.del("/users/me", { password: formValues(form).password });
      // The API has ended every session of the account; this tab and its others forget theirs.
      await api.logOut().catch(() => {});
      await navigate("/", { flash: "Your account has been deleted." });
    });
  };
  const organizes = user.role !== "attendee";
  return h(
    "section",
    { class: "panel danger-zone", "aria-labelledby": "delete-heading" },
    h("h2", { id: "delete-heading" }, "Delete my account"),
    h("p", {}, "This cannot be undone. Deleting your account:"),
    h(
      "ul",
      {},
      h("li", {}, "cancels your upcoming bookings, and refunds the ones you paid for;"),
      h("li", {}, "erases your name and e-mail address;"),
      h("li", {}, "ends your sessions: you cannot log in to this account again."),
    ),
    h(
      "p",
      {},
      "Your past bookings and payments stay in the organizers' records, without your name, " +
        "so that their counts and accounts stay right.",
    ),
    organizes &&
      h(
        "p",
        {},
        "If an event of yours that is still to come has bookings, cancel it first on ",
        h("a", { href: "/organizer" }, "My events"),
        ": its guests are told and refunded.",
      ),
    h(
      "form",
      { onsubmit: submit },
      field(
        "Your password",
        h("input", { name: "password", type: "password", autocomplete: "current-password", required: true }),
        "To confirm that it is you.",
      ),
      h("button", { type: "submit", class: "danger" }, "Delete my account"),
      line,
    ),
  );
}

export function accountPage() {
  const [user, refused] = requireRole("attendee", "organizer", "admin");
  if (refused) return refused;
  return h(
    "section",
    { class: "narrow" },
    heading("My account"),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Name"),
      h("dd", {}, user.full_name),
      h("dt", {}, "E-mail"),
      h("dd", {}, user.email),
      h("dt", {}, "Account type"),
      h("dd", {}, user.role),
    ),
    mailSection(user),
    exportSection(user),
    deleteSection(user),
  );
}
