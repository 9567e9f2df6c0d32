// Wall-clock times in an event's time zone <-> instants, for the event form's datetime-local
// fields: an organizer in Lisbon types the start of a concert in Tokyo in Tokyo time.

function wallClock(/** @type {Date} */ date, /** @type {string} */ timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(date);
  const get = (/** @type {Intl.DateTimeFormatPartTypes} */ type) => Number(parts.find((p) => p.type === type)?.value);
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
    second: get("second"),
  };
}

// How far the zone's wall clock is ahead of UTC at that instant, in milliseconds.
function offsetAt(/** @type {number} */ epochMs, /** @type {string} */ timeZone) {
  const w = wallClock(new Date(epochMs), timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(epochMs / 1000) * 1000;
}

/** "2027-03-01T19:30" in timeZone -> an RFC 3339 instant in UTC. */
export function instantFromWallClock(/** @type {string} */ value, /** @type {string} */ timeZone) {
  const [date, time] = value.split("T");
  const [year, month, day] = date.split("-").map(Number);
  const [hour, minute] = time.split(":").map(Number);
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  // The offset at the guess, then at the corrected instant: right across DST changes too.
  let instant = asUtc - offsetAt(asUtc, timeZone);
  instant = asUtc - offsetAt(instant, timeZone);
  return new Date(instant).toISOString();
}

/** An instant -> "YYYY-MM-DDTHH:MM" on timeZone's wall clock, for a datetime-local input. */
export function wallClockValue(/** @type {string} */ iso, /** @type {string} */ timeZone) {
  const w = wallClock(new Date(iso), timeZone);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

export function zoneNames() {
  return ["UTC", ...(Intl.supportedValuesOf?.("timeZone") ?? [])];
}
