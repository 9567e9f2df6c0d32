// An event's sales for its organizer and admins: the totals, with what the organizer owes back,
// and the four bar charts the API draws, each above a table of the same figures for those who
// would rather read them.

import * as api from "../api.js";
import { h, heading, table } from "../dom.js";
import { chartImage, isFree, money, requireRole } from "./common.js";

/** @typedef {import("./organizer.js").ManagedEvent} ManagedEvent */

/**
 * @typedef {object} Sales
 * @property {string} currency
 * @property {{seats_sold: number, seats_held: number, revenue: string, refunded: string, owed: string,
 *   pending_payments: string}} totals amounts are decimal strings in `currency`
 * @property {{date: string, seats: number, revenue: string}[]} by_day days in the event's zone
 * @property {{ticket_type_id: number, name: string, seats: number, revenue: string}[]} by_ticket_type
 */

/**
 * The API's charts in the page's order: each shows one figure by day or by ticket type.
 * @typedef {{name: string, title: string, by: "day" | "type", figure: "seats" | "revenue"}} Chart
 * @type {Chart[]}
 */
const CHARTS = [
  { name: "seats-by-day", title: "Seats sold by day", by: "day", figure: "seats" },
  { name: "revenue-by-day", title: "Revenue by day", by: "day", figure: "revenue" },
  { name: "seats-by-type", title: "Seats sold by ticket type", by: "type", figure: "seats" },
  { name: "revenue-by-type", title: "Revenue by ticket type", by: "type", figure: "revenue" },
];

const COUNT = new Intl.NumberFormat();
// A day of the API is a calendar day (of the event's zone): read as midnight UTC and written in
// UTC, so that no zone, the reader's included, moves it to the day before.
const DAY = new Intl.DateTimeFormat(undefined, {
  timeZone: "UTC",
  weekday: "short",
  year: "numeric",
  month: "short",
  day: "numeric",
});

/**
 * The figures behind a chart: a row per day or per ticket type.
 * @param {Chart} chart
 * @param {Sales} sales
 */
function chartTable(chart, sales) {
  const value = (/** @type {{seats: number, revenue: string}} */ row) =>
    chart.figure === "seats" ? COUNT.format(row.seats) : money(row.revenue, sales.currency);
  const rows =
    chart.by === "day"
      ? sales.by_day.map((day) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("time", { datetime: day.date }, DAY.format(new Date(`${day.date}T00:00Z`)))),
            h("td", {}, value(day)),
          ),
        )
      : sales.by_ticket_type.map((type) => h("tr", {}, h("th", { scope: "row" }, type.name), h("td", {}, value(type))));
  if (!rows.length) return h("p", {}, "Nothing sold yet.");
  const headers = [chart.by === "day" ? "Day" : "Ticket type", chart.figure === "seats" ? "Seats sold" : "Revenue"];
  return table(`${chart.title}: the figures`, headers, rows);
}

/** Whether a decimal string is nothing: "0.00", "0". */
/** @param {Sales} sales */
function totals(sales) {
  const { totals: sums, currency } = sales;
  const owes = !isFree(sums.owed);
  /**
   * @param {string} label
   * @param {string} value
   * @param {string} note
   * @param {boolean} [highlight]
   */
  const total = (label, value, note, highlight = false) =>
    h(
      "div",
      { class: highlight ? "sales-total owed" : "sales-total" },
      h("dt", {}, label),
      h("dd", { class: "figure" }, value),
      h("dd", { class: "hint" }, note),
    );
  return h(
    "section",
    { "aria-labelledby": "sales-totals" },
    h("h2", { id: "sales-totals" }, "Totals"),
    h(
      "dl",
      { class: "sales-totals" },
      total("Seats sold", COUNT.format(sums.seats_sold), "Tickets of confirmed bookings."),
      total("Seats held", COUNT.format(sums.seats_held), "Waiting for payment, or offered from the waiting list."),
      total("Revenue", money(sums.revenue, currency), "Payments received and kept."),
      total("Refunded", money(sums.refunded, currency), "Paid back by the payment provider."),
      total(
        "Owed back",
        money(sums.owed, currency),
        owes
          ? "Bank transfers and cash of cancelled bookings: you must pay this back to those who paid it."
          : "Nothing to pay back yourself.",
        owes,
      ),
      total("Pending payments", money(sums.pending_payments, currency), "The price of bookings waiting for payment."),
    ),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function salesPage({ params }) {
  const [, refused] = requireRole("organizer", "admin");
  if (refused) return refused;
  const id = Number(params.id);
  // Asked for at once with the figures; a chart that fails leaves the rest of the page whole.
  const images = CHARTS.map((chart) =>
    chartImage(
      `/events/${id}/sales/${chart.name}.svg`,
      `Bar chart: ${chart.title.toLowerCase()}. Its figures are in the table below.`,
    ),
  );
  /** @type {[ManagedEvent, Sales]} */
  const [event, sales] = await Promise.all([api.get(`/events/${id}`), api.get(`/events/${id}/sales`)]);
  const charts = (await Promise.all(images)).map((image, index) => {
    const chart = CHARTS[index];
    return h(
      "section",
      { class: "sales-chart", "aria-labelledby": `chart-${chart.name}` },
      h("h2", { id: `chart-${chart.name}` }, chart.title),
      image,
      chartTable(chart, sales),
    );
  });
  return h(
    "section",
    { class: "sales" },
    heading(`Sales: ${event.title}`),
    h(
      "p",
      { class: "meta" },
      `Amounts in ${sales.currency} · days in the event's time zone, ${event.timezone} · `,
      h("a", { href: `/organizer/events/${id}/edit` }, "Edit this event"),
      " · ",
      h("a", { href: `/organizer/events/${id}/tickets` }, "Tickets"),
      " · ",
      h("a", { href: `/organizer/events/${id}/guests` }, "Guests"),
      " · ",
      h("a", { href: `/organizer/events/${id}/door` }, "Door"),
      " · ",
      h("a", { href: "/organizer" }, "All my events"),
    ),
    totals(sales),
    charts,
  );
}
