// A booking's page, where its holder pays for it or answers its offer (the messages about the
// booking link here). Its checkout: a countdown to the end of the hold, what is owed, and the
// ways to pay the server offers. It is a document of its own (pages.json): where stripe is
// enabled its Content-Security-Policy lets Stripe.js in, and the policy of every other page does not.

import * as api from "../api.js";
import { act, formatTime, formValues, h, heading, say, statusLine } from "../dom.js";
import { refresh } from "../router.js";
import { bookingDetails, holdEnded, isFree, money, offerActions, poll, requireRole } from "./common.js";

const STRIPE_JS = "https://js.stripe.com/v3/";
// How often a page whose hold has ended asks whether the server has ended it too.
const ENDED_POLL_SECONDS = 5;
// After Stripe took the card, how long the page waits for Stripe's webhook to confirm the
// booking (the browser's word confirms nothing), and how often it asks.
const CONFIRMATION_WAIT_MS = 60_000;
const CONFIRMATION_POLL_MS = 2_000;

/** @typedef {import("./common.js").Booking} Booking */
/**
 * @typedef {object} Payment
 * @property {number} id
 * @property {string} provider
 * @property {string} amount
 * @property {string} currency
 * @property {string} status
 * @property {string} reference what the payer quotes
 * @property {string | null} client_secret Stripe's, for confirming the card here
 * @property {string | null} instructions how to pay (manual)
 */
/** @typedef {{providers: string[], stripe_publishable_key: string | null}} Providers */
/** @typedef {{mount: (element: HTMLElement) => void}} StripeCard */
/**
 * The little of Stripe.js this page uses.
 * @typedef {object} Stripe
 * @property {() => {create: (type: "card") => StripeCard}} elements
 * @property {(secret: string, data: {payment_method: {card: StripeCard}}) => Promise<{error?: {message?: string}}>} confirmCardPayment
 */

/** @type {Record<string, string>} */
const PROVIDER_NAMES = { manual: "Bank transfer or cash at the desk", stripe: "Card" };
const OPEN = ["created", "pending"];

function plural(/** @type {number} */ count, /** @type {string} */ unit) {
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/** What is left, as a person says it: "2 days 3 hours", "1 hour 5 minutes", "4 minutes 9 seconds". */
function spelledOut(/** @type {number} */ ms) {
  const seconds = Math.ceil(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  /** @type {[number, string][]} */
  const parts = days
    ? [
        [days, "day"],
        [hours, "hour"],
      ]
    : hours
      ? [
          [hours, "hour"],
          [minutes, "minute"],
        ]
      : [
          [minutes, "minute"],
          [seconds % 60, "second"],
        ];
  return parts
    .filter(([count]) => count)
    .map(([count, unit]) => plural(count, unit))
    .join(" ");
}

/** What is worth saying aloud: each minute of the last hour, each hour of the last two days, else each day. */
function roughly(/** @type {number} */ ms) {
  const minutes = Math.ceil(ms / 60_000);
  if (minutes <= 60) return plural(minutes, "minute");
  const hours = Math.ceil(ms / 3_600_000);
  return hours <= 48 ? plural(hours, "hour") : plural(Math.ceil(ms / 86_400_000), "day");
}

/**
 * A live countdown to `until`. The clock is a timer, which screen readers do not read out as
 * it changes (every second would drown everything else); a status line beside it says what
 * is left each minute of the last hour (each hour or day before), and `ended` runs at 0.
 * @param {string} until
 * @param {(cleanup: () => void) => void} onLeave
 * @param {() => void} ended
 */
function countdown(until, onLeave, ended) {
  const end = Date.parse(until);
  const clock = h("span", { class: "countdown", role: "timer" }, spelledOut(end - Date.now()));
  const spoken = h("span", { class: "visually-hidden", role: "status" });
  let said = roughly(end - Date.now());
  const timer = setInterval(() => {
    const left = end - Date.now();
    if (left <= 0) {
      clearInterval(timer);
      ended();
      return;
    }
    clock.textContent = spelledOut(left);
    const now = roughly(left);
    if (now !== said) spoken.textContent = `${now} left to pay.`;
    said = now;
  }, 1000);
  onLeave(() => clearInterval(timer));
  return [clock, spoken];
}

/** @type {Promise<(publishableKey: string) => Stripe> | null} */
let stripeJs = null;

/** Stripe.js, loaded from Stripe (as Stripe requires) the first time a card is chosen. */
function loadStripe() {
  stripeJs ??= new Promise((resolve, reject) => {
    const failed = () => {
      stripeJs = null;
      script.remove();
      const detail = "The card form cannot be loaded; check your connection, or choose another way to pay.";
      reject(new api.ApiError(0, { detail, code: "offline" }));
    };
    const loaded = () => {
      const factory = Reflect.get(window, "Stripe");
      if (typeof factory === "function") resolve(factory);
      else failed();
    };
    const script = h("script", { src: STRIPE_JS, onload: loaded, onerror: failed });
    document.head.append(script);
  });
  return stripeJs;
}

/** The booking once it is no longer pending (Stripe told the server), or null if that takes too long. */
async function settled(/** @type {number} */ bookingId) {
  const end = Date.now() + CONFIRMATION_WAIT_MS;
  while (Date.now() < end) {
    /** @type {Booking} */
    const booking = await api.get(`/bookings/${bookingId}`);
    if (booking.status !== "pending") return booking;
    await new Promise((resolve) => setTimeout(resolve, CONFIRMATION_POLL_MS));
  }
  return null;
}

/**
 * How to pay by transfer or at the desk, with the reference to quote; the deadline is the hold's.
 * @param {Payment} payment
 */
function transferDetails(payment) {
  return h(
    "section",
    { class: "panel", "aria-labelledby": "transfer-heading" },
    h("h2", { id: "transfer-heading" }, "Pay by bank transfer or at the desk"),
    h("p", {}, payment.instructions),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Reference"),
      h("dd", {}, h("strong", { class: "code reference" }, payment.reference)),
      h("dt", {}, "Amount"),
      h("dd", {}, money(payment.amount, payment.currency)),
    ),
    h("p", {}, "The organizer confirms your booking when the money arrives; you will find it under My bookings."),
  );
}

/**
 * The ways to pay: one radio button each; a card opens Stripe's card field.
 * @param {Booking} booking
 * @param {string[]} names the providers to offer
 * @param {Providers} providers
 * @param {{open: Payment[], line: HTMLElement, zone: string, another: boolean}} context `open`: payments
 *   started before and not over; `another`: one of them is a transfer, and these are the other ways
 */
function payForm(booking, names, providers, { open, line, zone, another }) {
  // One key per way of paying: a repeat (double click, lost answer) starts one payment.
  const keys = new Map(names.map((name) => [name, api.newKey()]));
  const amount = money(booking.total_price, booking.currency);
  const button = h("button", { type: "submit", class: "primary" }, "Continue");
  const cardMount = h("div", { class: "card-element", role: "group", "aria-labelledby": "card-label" });
  const cardPart = h(
    "div",
    { class: "field", hidden: true },
    h("span", { class: "label", id: "card-label" }, "Card details"),
    cardMount,
  );
  /** @type {Promise<{stripe: Stripe, card: StripeCard}> | null} */
  let cardReady = null;
  const cardField = () => {
    const key = /** @type {string} */ (providers.stripe_publishable_key);
    cardReady ??= loadStripe().then(
      (factory) => {
        const stripe = factory(key);
        const card = stripe.elements().create("card");
        card.mount(cardMount);
        return { stripe, card };
      },
      (error) => {
        cardReady = null;
        throw error;
      },
    );
    return cardReady;
  };
  let stripePayment = open.find((payment) => payment.provider === "stripe" && payment.client_secret) || null;

  const start = async (/** @type {string} */ provider) => {
    const headers = { "Idempotency-Key": /** @type {string} */ (keys.get(provider)) };
    /** @type {Payment} */
    const payment = await api.post(`/bookings/${booking.id}/payments`, { provider }, { headers });
    return payment;
  };
  const payByTransfer = async () => {
    const payment = await start("manual");
    /** @type {Booking} */
    const held = await api.get(`/bookings/${booking.id}`);
    const until = held.expires_at ? ` Your seats are now held until ${formatTime(held.expires_at, zone)}.` : "";
    return `Quote the reference ${payment.reference} when you pay.${until}`;
  };
  const payByCard = async () => {
    const { stripe, card } = await cardField();
    stripePayment ??= await start("stripe");
    const secret = /** @type {string} */ (stripePayment.client_secret);
    const result = await stripe.confirmCardPayment(secret, { payment_method: { card } });
    if (result.error) {
      const detail = result.error.message || "The card payment did not go through; try again or use another card.";
      throw new api.ApiError(402, { detail, code: "card_refused" });
    }
    const paid = await settled(booking.id);
    if (paid) return "Paid: your booking is confirmed.";
    return "Your card was accepted. The booking is confirmed as soon as Stripe tells us, usually within a minute.";
  };

  const choose = () => {
    const byCard = formValues(form).provider === "stripe";
    cardPart.hidden = !byCard;
    button.textContent = byCard ? `Pay ${amount}` : "Continue";
    if (!byCard) return;
    cardField().catch((/** @type {unknown} */ error) => {
      say(line, error instanceof api.ApiError ? error.detail : String(error), "error");
    });
  };
  const onsubmit = (/** @type {SubmitEvent} */ submitted) => {
    submitted.preventDefault();
    const byCard = formValues(form).provider === "stripe";
    act(button, line, byCard ? payByCard : payByTransfer, { andRefresh: true });
  };
  const form = h(
    "form",
    { class: "pay panel", onsubmit, onchange: choose },
    h(
      "fieldset",
      {},
      h("legend", {}, another ? "Or pay another way" : "How to pay"),
      names.map((name, i) =>
        h(
          "label",
          { class: "check" },
          h("input", { type: "radio", name: "provider", value: name, checked: i === 0, required: true }),
          ` ${PROVIDER_NAMES[name] || name}`,
        ),
      ),
    ),
    cardPart,
    button,
  );
  // Once the form is on the page: Stripe mounts its card field into the document.
  setTimeout(choose);
  return form;
}

/**
 * What the holder can do with the booking as it stands.
 * @param {Booking} booking
 * @param {{providers: Providers, payments: Payment[], zone: string, line: HTMLElement}} facts
 * @param {(cleanup: () => void) => void} onLeave
 * @returns {import("../dom.js").Child}
 */
function checkoutState(booking, { providers, payments, zone, line }, onLeave) {
  const backToEvent = h("a", { href: `/events/${booking.event_id}` }, "the event's page");
  if (holdEnded(booking)) {
    if (booking.status !== "expired") {
      // The server ends holds within seconds of their end; show that when it has.
      poll(onLeave, ENDED_POLL_SECONDS, async () => {
        /** @type {Booking} */
        const fresh = await api.get(`/bookings/${booking.id}`);
        if (fresh.status !== booking.status) await refresh();
      });
    }
    return h(
      "p",
      { class: "hold-ended" },
      "Your hold has ended: the seats went back on sale. Book again on ",
      backToEvent,
      ".",
    );
  }
  if (booking.status === "confirmed") {
    const done = isFree(booking.total_price) ? "Your booking is confirmed" : "Paid: your booking is confirmed";
    return h("p", {}, `${done}. Your tickets are below.`);
  }
  if (booking.status === "offered" && booking.expires_at) {
    const then = isFree(booking.total_price)
      ? ""
      : ` Accept, then pay ${money(booking.total_price, booking.currency)}.`;
    return [
      h("p", {}, `These seats are offered to you until ${formatTime(booking.expires_at, zone)}.${then}`),
      offerActions(booking, line),
    ];
  }
  if (booking.status === "waitlisted") {
    return h("p", {}, `You are number ${booking.waitlist_position} on the waiting list: there is nothing to pay yet.`);
  }
  if (booking.status !== "pending" || !booking.expires_at) {
    return h("p", {}, `This booking is ${booking.status}: there is nothing to pay.`);
  }

  const ended = () => {
    say(line, "Your hold has ended: the seats went back on sale.", "error");
    refresh();
  };
  const open = payments.filter((payment) => OPEN.includes(payment.status));
  const transfer = open.findLast((payment) => payment.provider === "manual");
  const names = providers.providers.filter(
    (name) => !(transfer && name === "manual") && (name !== "stripe" || providers.stripe_publishable_key),
  );
  return [
    h(
      "section",
      { class: "panel hold", "aria-labelledby": "hold-heading" },
      h("h2", { id: "hold-heading" }, `Amount due ${money(booking.total_price, booking.currency)}`),
      h(
        "p",
        {},
        "Your seats are held until ",
        h("strong", { class: "deadline" }, formatTime(booking.expires_at, zone)),
        ": ",
        countdown(booking.expires_at, onLeave, ended),
        " left.",
      ),
    ),
    transfer && transferDetails(transfer),
    names.length > 0 && payForm(booking, names, providers, { open, line, zone, another: Boolean(transfer) }),
    !transfer && !names.length && h("p", {}, "No way to pay is offered here; please contact the organizer."),
  ];
}

/** @param {import("../router.js").PageContext} context */
export async function bookingPage({ params, onLeave }) {
  const [, refused] = requireRole("attendee");
  if (refused) return refused;
  const id = Number(params.id);
  /** @type {Booking} */
  const booking = await api.get(`/bookings/${id}`);
  /** @type {[{timezone: string} | null, Providers, {items: Payment[]}]} */
  const [event, providers, payments] = await Promise.all([
    api.get(`/events/${booking.event_id}`).catch(() => null),
    api.get("/payments/providers"),
    api.get(`/bookings/${id}/payments`),
  ]);
  const zone = event?.timezone || "UTC";
  const line = statusLine("checkout");
  const paying = booking.status === "pending" && !holdEnded(booking);
  return h(
    "section",
    { class: "checkout narrow" },
    heading(`${paying ? "Checkout" : "Booking"}: ${booking.event.title}`),
    h(
      "p",
      { class: "meta" },
      h("a", { href: `/events/${booking.event_id}` }, booking.event.title),
      " · ",
      formatTime(booking.event.starts_at, zone),
      " · ",
      booking.event.location,
    ),
    checkoutState(booking, { providers, payments: payments.items, zone, line }, onLeave),
    line,
    h("h2", {}, "Your booking"),
    await bookingDetails(booking),
  );
}
