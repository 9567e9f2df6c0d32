// The scanner at one check-in list (SPEC §11), for a phone at the door: a typed code always, the
// camera where the browser reads QR codes (BarcodeDetector), an answer big enough to read at arm's
// length, the list's live counts, and scans kept on the phone while the network is away.
//
// Door staff need no account: the organizer's scanner link carries a scanner key in its fragment
// (`#key=`), which never reaches a server or its logs. The page moves it into localStorage, under
// the list's id, and takes it out of the address bar. localStorage, not sessionStorage: the scans
// waiting there for the network are sent with that key, so the two must outlive the same things
// (a reload, a tab the phone closed, a restarted browser). "Forget this key" removes it; revoking
// it on the organizer's page makes it useless anywhere. The organizer scans with their session.

import * as api from "../api.js";
import { field, h, heading, statusLine } from "../dom.js";
import { countFigures, poll, requireRole, showCounts } from "./common.js";

/** @typedef {import("./door.js").CheckInList} CheckInList */
/** @typedef {"entry" | "exit"} Direction */
/**
 * @typedef {"unknown_ticket" | "already_inside" | "not_confirmed" | "cancelled" | "wrong_ticket_type"
 *   | "event_cancelled"} Reason
 */
/**
 * A scan as sent: its nonce makes a resent one (after a timeout, from the queue) count once.
 * @typedef {{code: string, direction: Direction, nonce: string, scanned_at: string, force?: boolean}} ScanRequest
 */
/**
 * The API's answer to a scan.
 * @typedef {object} Scan
 * @property {string} code
 * @property {Direction} direction
 * @property {"ok" | "refused"} result
 * @property {Reason | null} reason
 * @property {{code: string, ticket_type: string, holder_name: string} | null} ticket null for a party's code
 * @property {number} seats how many went in or out
 * @property {string | null} nonce
 * @property {string} scanned_at
 * @property {boolean} forced
 */
/** @typedef {{rawValue: string}} Barcode */
/** @typedef {{detect(source: HTMLVideoElement): Promise<Barcode[]>}} Detector */
/** @typedef {{new (options: {formats: string[]}): Detector, getSupportedFormats(): Promise<string[]>}} DetectorClass */

const KEY_PREFIX = "boxoffice.scanner_key.";
const QUEUE_PREFIX = "boxoffice.scan_queue.";
const DIRECTION_PREFIX = "boxoffice.scan_direction.";
const COUNTS_SECONDS = 10;
// How often waiting scans are tried again while the browser believes it is online but the server
// cannot be reached (a captive Wi-Fi, a dead uplink).
const RETRY_SECONDS = 10;
// What one batch may carry (SPEC §11); more go in the next.
const BATCH_MAX = 1000;
const DETECT_MS = 300;
// A code held in front of the camera is read again and again: once is enough for this long.
const SAME_CODE_MS = 4000;
const LOG_LENGTH = 50;
const VIBRATION = { ok: [80], refused: [250, 100, 250], error: [250, 100, 250], queued: [40, 60, 40] };

/** @type {Record<Reason, {words: string, advice: string}>} */
const REFUSALS = {
  unknown_ticket: { words: "unknown ticket", advice: "No ticket of this event has this code. Check it, or type it." },
  already_inside: { words: "already inside", advice: "This ticket came in already and has not gone out since." },
  not_confirmed: { words: "not confirmed", advice: "The booking is not paid yet, or still on the waiting list." },
  cancelled: { words: "cancelled", advice: "This booking was cancelled, or its hold ran out." },
  wrong_ticket_type: {
    words: "wrong ticket type",
    advice: "This ticket does not come in here: send them to their entrance.",
  },
  event_cancelled: { words: "event cancelled", advice: "The event was cancelled: nobody comes in." },
};

/** @returns {DetectorClass | null} the browser's BarcodeDetector, which not every browser has */
function detectorClass() {
  return Reflect.get(window, "BarcodeDetector") ?? null;
}

/** This list's scanner key: from the link's fragment (then kept, and taken out of the URL) or kept before. */
function scannerKey(/** @type {number} */ listId) {
  const given = new URLSearchParams(location.hash.slice(1)).get("key");
  if (given) {
    localStorage.setItem(KEY_PREFIX + listId, given);
    history.replaceState(history.state, "", location.pathname + location.search);
  }
  return localStorage.getItem(KEY_PREFIX + listId);
}

/** @returns {ScanRequest[]} the scans waiting for the network, oldest first */
function waiting(/** @type {number} */ listId) {
  try {
    const queue = JSON.parse(localStorage.getItem(QUEUE_PREFIX + listId) || "[]");
    return Array.isArray(queue) ? queue : [];
  } catch {
    return [];
  }
}

function keepWaiting(/** @type {number} */ listId, /** @type {ScanRequest[]} */ queue) {
  if (queue.length) localStorage.setItem(QUEUE_PREFIX + listId, JSON.stringify(queue));
  else localStorage.removeItem(QUEUE_PREFIX + listId);
}

function plural(/** @type {number} */ count, /** @type {string} */ noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * An answer in words: big ones ("IN — Adult — Jane Doe", "REFUSED: already inside") and a line
 * that says more. The words carry the meaning; the colour only repeats it.
 * @param {Scan} scan
 * @returns {{kind: "ok" | "refused", words: string, detail: string}}
 */
function answer(scan) {
  const who = scan.ticket ? `${scan.ticket.ticket_type} — ${scan.ticket.holder_name}` : null;
  const code = `Code ${scan.code}`;
  if (scan.result === "refused") {
    const reason = REFUSALS[/** @type {Reason} */ (scan.reason)];
    return {
      kind: "refused",
      words: `REFUSED: ${reason.words}`,
      detail: [reason.advice, who, code].filter(Boolean).join(" · "),
    };
  }
  const party = `${plural(scan.seats, "seat")} of the party`;
  if (scan.direction === "exit") {
    const nobody = scan.seats === 0 ? "Was not inside. " : "";
    return { kind: "ok", words: `OUT — ${who || party}`, detail: `${nobody}${code}` };
  }
  const forced = scan.forced ? " (let in anyway)" : "";
  return { kind: "ok", words: `IN${forced} — ${who || party}`, detail: code };
}

/**
 * The camera, read every DETECT_MS for QR codes; null where the browser cannot read them.
 * @param {(code: string) => void} onCode
 * @param {(cleanup: () => void) => void} onLeave
 */
function camera(onCode, onLeave) {
  const Detector = detectorClass();
  if (!Detector) return null;
  const video = h("video", { class: "camera", muted: true, playsinline: true, hidden: true, "aria-label": "Camera" });
  video.muted = true;
  const line = statusLine("camera");
  /** @type {MediaStream | null} */
  let stream = null;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let timer;
  // When each code was last in sight: it is scanned again only after SAME_CODE_MS out of it.
  /** @type {Map<string, number>} */
  const seen = new Map();
  const stop = () => {
    clearInterval(timer);
    for (const track of stream?.getTracks() || []) track.stop();
    stream = null;
    video.hidden = true;
    video.srcObject = null;
    button.textContent = "Start camera";
  };
  const start = async () => {
    button.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
    } catch (error) {
      stop();
      line.textContent = `The camera cannot be used: ${error instanceof Error ? error.message : error}. Type the codes.`;
      line.className = "status error";
      return;
    } finally {
      button.disabled = false;
    }
    button.textContent = "Stop camera";
    line.textContent = "";
    line.className = "status";
    const detector = new Detector({ formats: ["qr_code"] });
    let reading = false;
    timer = setInterval(async () => {
      if (reading || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
      reading = true;
      try {
        const found = await detector.detect(video);
        const now = Date.now();
        for (const [code, at] of seen) if (now - at > SAME_CODE_MS) seen.delete(code);
        for (const { rawValue } of found) {
          if (!seen.has(rawValue)) onCode(rawValue);
          seen.set(rawValue, now);
        }
      } catch {
        // A frame the detector could not read: the next one will do.
      } finally {
        reading = false;
      }
    }, DETECT_MS);
  };
  const button = h("button", { type: "button", class: "camera-button", onclick: () => (stream ? stop() : start()) });
  button.textContent = "Start camera";
  onLeave(stop);
  const controls = h("div", { class: "camera-controls" }, video, button, line);
  // A browser may have the class without a QR code reader (the formats depend on the platform).
  Detector.getSupportedFormats()
    .then((formats) => {
      if (!formats.includes("qr_code")) controls.remove();
    })
    .catch(() => controls.remove());
  return controls;
}

/** For someone with neither a scanner key nor the right account. */
function needsKey(/** @type {number} */ listId) {
  const next = encodeURIComponent(`/scan/${listId}`);
  return h(
    "section",
    {},
    heading("Scanner"),
    h(
      "p",
      {},
      "Open the scanner link the organizer gave you: it lets this phone scan here. Organizers can ",
      h("a", { href: `/login?next=${next}` }, "log in"),
      " instead.",
    ),
  );
}

/** A key the API refused when the page loaded: revoked, or another list's. */
function keyRefused(/** @type {number} */ listId, /** @type {api.ApiError} */ error) {
  const words =
    error.status === 401
      ? "This scanner key does not work: the organizer revoked it, or its link was copied incompletely."
      : `This scanner key cannot scan here: ${error.detail}.`;
  const forget = h(
    "button",
    {
      type: "button",
      onclick: () => {
        localStorage.removeItem(KEY_PREFIX + listId);
        location.reload();
      },
    },
    "Forget this key",
  );
  return h(
    "section",
    { class: "scanner" },
    heading("Scanner refused"),
    h("p", { class: "status error", role: "alert" }, words, " Ask the organizer for a new scanner link."),
    h("p", {}, forget),
  );
}

/** @param {import("../router.js").PageContext} context */
export async function scannerPage({ params, onLeave }) {
  const listId = Number(params.id);
  const key = scannerKey(listId);
  if (!key && !api.user()) return needsKey(listId);
  if (!key) {
    const [, refused] = requireRole("organizer", "admin");
    if (refused) return refused;
  }
  const auth = key ? { bearer: key } : {};
  // The list and its counts come with its ticket download, which a scanner key may read; asked
  // for only what changed since the last one, it stays small however large the event.
  let since = new Date().toISOString();
  const readList = async () => {
    /** @type {{check_in_list: CheckInList, as_of: string}} */
    const download = await api.get(
      `/check-in-lists/${listId}/tickets?changed_since=${encodeURIComponent(since)}`,
      auth,
    );
    since = download.as_of;
    return download.check_in_list;
  };
  /** @type {CheckInList} */
  let list;
  try {
    list = await readList();
  } catch (error) {
    if (key && error instanceof api.ApiError && [401, 403].includes(error.status)) return keyRefused(listId, error);
    throw error;
  }

  const figures = countFigures(list.counts);
  const refreshCounts = async () => {
    showCounts(figures, (await readList()).counts);
  };
  poll(onLeave, COUNTS_SECONDS, refreshCounts);

  const cameraControls = camera((code) => scan(code), onLeave);
  const hint = cameraControls ? "Scan a ticket's QR code or type its code." : "Type a ticket's code.";
  const words = h("p", { class: "scan-words" }, "Ready");
  const detail = h("p", { class: "scan-detail" }, hint);
  const letIn = h("div", { class: "scan-force" });
  const result = h(
    "div",
    { class: "scan-result", role: "status", "aria-live": "polite", "aria-atomic": "true" },
    words,
    detail,
  );
  /**
   * @param {"ok" | "refused" | "queued" | "error" | "ready"} kind
   * @param {string} big
   * @param {string} small
   */
  const tell = (kind, big, small) => {
    result.className = `scan-result scan-${kind}`;
    words.textContent = big;
    detail.textContent = small;
    letIn.replaceChildren();
    if (kind !== "ready" && "vibrate" in navigator) navigator.vibrate(VIBRATION[kind]);
  };

  const queueLine = statusLine("queue");
  const logList = h("ol", { class: "scan-log" });
  const log = h(
    "section",
    { class: "scan-log-section", "aria-labelledby": "scan-log-title", hidden: true },
    h("h2", { id: "scan-log-title" }, "Sent while offline"),
    logList,
  );
  const showWaiting = (/** @type {string} */ problem = "") => {
    const count = waiting(listId).length;
    const scans = plural(count, "scan");
    if (!count) queueLine.textContent = "";
    else if (!navigator.onLine) queueLine.textContent = `Offline — ${scans} waiting`;
    else queueLine.textContent = `${scans} waiting to be sent${problem ? `: ${problem}` : ""}`;
    queueLine.className = count ? "status waiting" : "status";
  };

  // The scan the person is waiting for, sent in a batch behind older ones: its answer is the big one.
  /** @type {string | null} */
  let awaited = null;
  let sending = false;
  /** Sends the waiting scans as one batch, one batch at a time; each answer goes to the log. */
  const sendWaiting = async () => {
    const batch = waiting(listId).slice(0, BATCH_MAX);
    if (sending || !batch.length || !navigator.onLine) return;
    sending = true;
    try {
      /** @type {{results: Scan[]}} */
      const { results } = await api.post(`/check-in-lists/${listId}/scans/batch`, { scans: batch }, auth);
      const sent = new Set(batch.map((scan) => scan.nonce));
      keepWaiting(
        listId,
        waiting(listId).filter((scan) => !sent.has(scan.nonce)),
      );
      for (const scan of results) {
        const said = answer(scan);
        if (scan.nonce === awaited) tell(said.kind, said.words, said.detail);
        else logList.prepend(h("li", { class: `scan-${said.kind}` }, h("strong", {}, said.words), ` · ${said.detail}`));
      }
      while (logList.children.length > LOG_LENGTH) logList.lastElementChild?.remove();
      log.hidden = !logList.children.length;
      showWaiting();
      if (!waiting(listId).length && result.classList.contains("scan-queued")) {
        tell("ready", "Ready", "The scans kept while offline were sent: their answers are below.");
      }
      refreshCounts().catch(() => {});
    } catch (error) {
      // Not reached: the next try will do. Refused (a revoked key): they wait, and the line says why.
      const problem = error instanceof api.ApiError && error.status !== 0 ? error.detail : "";
      showWaiting(problem);
      if (awaited && waiting(listId).some((scan) => scan.nonce === awaited)) {
        tell(
          "queued",
          "SAVED — not sent yet",
          problem || "The server cannot be reached: the scan waits on this phone.",
        );
      }
      awaited = null;
      return;
    } finally {
      sending = false;
    }
    // Scans made while this batch was on its way.
    await sendWaiting();
  };

  /** @param {ScanRequest} request */
  const queue = (request) => {
    keepWaiting(listId, [...waiting(listId), request]);
    showWaiting();
  };

  const form = /** @type {HTMLFormElement} */ (h("form", { class: "scan-form" }));
  const direction = () =>
    /** @type {Direction} */ (/** @type {RadioNodeList} */ (form.elements.namedItem("direction")).value);
  /** Judges one code; queued when offline, or behind scans that are still waiting. */
  const scan = async (/** @type {string} */ code, force = false) => {
    /** @type {ScanRequest} */
    const request = { code, direction: direction(), nonce: api.newKey(), scanned_at: new Date().toISOString() };
    if (force) request.force = true;
    if (!navigator.onLine) {
      queue(request);
      tell("queued", "SAVED — checked once online", `Code ${code} · ${request.direction} · it waits on this phone.`);
      return;
    }
    if (waiting(listId).length) {
      awaited = request.nonce;
      queue(request);
      tell("queued", "SENDING…", `Code ${code} goes after the scans that were waiting.`);
      await sendWaiting();
      return;
    }
    try {
      /** @type {Scan} */
      const scanned = await api.post(`/check-in-lists/${listId}/scans`, request, auth);
      const said = answer(scanned);
      tell(said.kind, said.words, said.detail);
      // Organizers may let in a ticket that is inside already (lost wristband, a scan at the wrong door).
      if (!key && scanned.reason === "already_inside") {
        const button = h(
          "button",
          { type: "button", class: "danger", onclick: () => scan(code, true) },
          "Let in anyway",
        );
        letIn.replaceChildren(button);
      }
      refreshCounts().catch(() => {});
    } catch (error) {
      if (error instanceof api.ApiError && error.status === 0) {
        // The answer may have been lost on the way back: the nonce makes the resent scan count once.
        queue(request);
        tell("queued", "SAVED — checked once online", `Code ${code} · the server cannot be reached.`);
      } else if (error instanceof api.ApiError && error.status === 401 && key) {
        tell("error", "NOT ALLOWED — this scanner key does not work", "Ask the organizer for a new scanner link.");
      } else {
        tell("error", "NOT SENT", error instanceof api.ApiError ? error.detail : String(error));
      }
    }
  };

  const saved = sessionStorage.getItem(DIRECTION_PREFIX + listId) === "exit" ? "exit" : "entry";
  /** @param {Direction} value @param {string} label */
  const choice = (value, label) =>
    h(
      "label",
      { class: "direction-choice" },
      h("input", {
        type: "radio",
        name: "direction",
        value,
        checked: saved === value,
        onchange: () => sessionStorage.setItem(DIRECTION_PREFIX + listId, value),
      }),
      h("span", {}, label),
    );
  const codeField = h("input", {
    name: "code",
    required: true,
    maxlength: 64,
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    enterkeyhint: "go",
    class: "code scan-code",
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = codeField.value.trim();
    if (!code) return;
    codeField.value = "";
    scan(code);
  });
  form.append(
    h(
      "fieldset",
      { class: "direction" },
      h("legend", {}, "Direction"),
      choice("entry", "Entry"),
      choice("exit", "Exit"),
    ),
    field("Ticket code", codeField),
    h("button", { type: "submit", class: "primary scan-button" }, "Scan"),
  );

  const onOnline = () => sendWaiting();
  const onOffline = () => showWaiting();
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", onOffline);
  const retry = setInterval(() => {
    if (waiting(listId).length) sendWaiting();
  }, RETRY_SECONDS * 1000);
  onLeave(() => {
    window.removeEventListener("online", onOnline);
    window.removeEventListener("offline", onOffline);
    clearInterval(retry);
  });
  showWaiting();
  // Scans kept from before a reload go as soon as they can.
  sendWaiting();

  const forget = h(
    "button",
    {
      type: "button",
      class: "link-button",
      onclick: () => {
        const count = waiting(listId).length;
        const lost = count ? ` ${plural(count, "scan")} waiting to be sent will be lost.` : "";
        if (!confirm(`Forget this phone's scanner key?${lost}`)) return;
        localStorage.removeItem(KEY_PREFIX + listId);
        keepWaiting(listId, []);
        location.reload();
      },
    },
    "Forget this key",
  );
  const user = api.user();
  return h(
    "section",
    { class: "scanner" },
    heading(`Scanner: ${list.name}`),
    figures,
    result,
    letIn,
    queueLine,
    cameraControls,
    form,
    log,
    h(
      "p",
      { class: "meta" },
      key ? ["Scanning with a scanner key · ", forget] : `Scanning as ${user?.full_name} · `,
      !key && h("a", { href: `/organizer/events/${list.event_id}/door` }, "The event's door"),
    ),
  );
}
