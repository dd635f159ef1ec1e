// The operators' console: reads GET /v1/ops/summary and acts through the audited API
// endpoints, all via /console/api/… (the session cookie carries the key; this script never
// sees it). Data is written with textContent only.
"use strict";

const API = "/console/api";

async function api(method, path, body) {
  const options = { method, headers: { "X-Console": "1", "Accept": "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, options);
  if (response.status === 401) {
    window.location.assign("/console");
    throw new Error("logged out");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (!response.ok) {
    const detail = (data && (data.detail || data.title)) || response.statusText;
    throw new Error(response.status + " " + detail);
  }
  return data;
}

function status(message, isError) {
  const el = document.getElementById("status");
  el.textContent = message || "";
  el.className = isError ? "error" : "ok";
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  if (s < 120) return s + " s";
  if (s < 7200) return Math.round(s / 60) + " min";
  if (s < 172800) return Math.round(s / 3600) + " h";
  return Math.round(s / 86400) + " d";
}

function cell(value) {
  const td = document.createElement("td");
  td.textContent = value === null || value === undefined ? "" : String(value);
  return td;
}

function fill(tableId, rows, render) {
  const tbody = document.querySelector("#" + tableId + " tbody");
  tbody.replaceChildren();
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell("none");
    td.colSpan = document.querySelectorAll("#" + tableId + " thead th").length;
    td.className = "muted";
    tr.appendChild(td);
    tbody.appendChild(tr);
    return;
  }
  for (const row of rows) {
    const tr = document.createElement("tr");
    for (const part of render(row, tr)) {
      tr.appendChild(part instanceof Node ? part : cell(part));
    }
    tbody.appendChild(tr);
  }
}

function button(label, className, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = className;
  b.addEventListener("click", onClick);
  return b;
}

async function requeue(deliveryId) {
  if (!window.confirm("Requeue delivery " + deliveryId + "? Its attempts are reset; its history is kept.")) return;
  try {
    const r = await api("POST", "/v1/deliveries/" + encodeURIComponent(deliveryId) + ":requeue");
    status("Delivery " + r.delivery_id + ": " + r.previous_state + " → " + r.state);
    await load();
  } catch (e) { status("Requeue failed: " + e.message, true); }
}

async function transition(entryId, action) {
  const note = window.prompt("Note for '" + action + "' on " + entryId + " (optional):", "");
  if (note === null) return;
  const body = { action };  // the gateway records the authenticated key as the actor
  if (note) body.note = note;
  if (["reject-objection", "correct-listing", "annul-listing"].includes(action)) {
    // 谁提供、谁负责: an operator answers an objection only acting for the providing agency
    const agency = window.prompt("Answering for which providing agency (its code)?", "");
    if (!agency) return;
    body.acting_for = agency;
  }
  try {
    const r = await api("POST", "/v1/list-entries/" + encodeURIComponent(entryId) + "/transitions", body);
    status("Entry " + entryId + ": " + r.transition.from_state + " → " + r.transition.state);
    await load();
  } catch (e) { status("Transition failed: " + e.message, true); }
}

function render(summary) {
  document.getElementById("generated").textContent = "as of " + summary.generated_at;
  const feed = summary.change_feed;
  document.getElementById("feed-summary").textContent =
    feed.pending + " pending (oldest " + age(feed.oldest_pending_age_seconds) + "), " + feed.leased +
    " being decided, " + feed.quarantined + " set aside";
  fill("feed-quarantined", feed.quarantined_subjects, (c, tr) => {
    tr.dataset.subject = c.subject;
    tr.className = "overdue";
    return [c.subject, c.subject_name || "", c.attempts, c.last_error, c.failed_at, c.enqueued_at];
  });
  fill("items-quarantined", summary.publication_quarantine, (i, tr) => {
    tr.dataset.item = i.item_id;
    return [i.item_id, i.destination, i.kind, i.subject, i.record_uid || "", i.error, i.quarantined_at];
  });
  fill("queues", summary.queues, (q, tr) => {
    tr.dataset.state = q.state;
    return [q.destination, q.state, q.count, age(q.oldest_age_seconds)];
  });
  fill("breakers", summary.breakers, (b, tr) => {
    tr.className = "breaker-" + b.state;
    return [b.destination, b.state, b.consecutive_failures, b.opened_at, b.probe_at, b.last_error];
  });
  fill("dead", summary.dead_letters, (d, tr) => {
    tr.dataset.delivery = d.delivery_id;
    const td = document.createElement("td");
    td.appendChild(button("Requeue", "requeue", () => requeue(d.delivery_id)));
    return [d.delivery_id, d.destination, d.bulletin_id, d.attempts, d.last_error, d.updated_at, td];
  });
  fill("receipts", summary.receipts_overdue, (r) =>
    [r.delivery_id, r.destination, r.sent_at, age(r.waiting_seconds), r.flagged ? "yes" : "no"]);
  fill("conflicts", summary.receipt_conflicts || [], (c, tr) => {
    tr.className = "overdue";
    return [c.delivery_id, c.destination, c.receipt_id || "", c.received_at, c.delivery_state];
  });
  fill("refused", (summary.receipts_refused || {}).latest || [], (r) =>
    [r.received_at, r.delivery_id || "", r.destination || "", (r.actor || r.channel) + (r.organisation ? " (" + r.organisation + ")" : ""),
     r.reason, r.detail]);
  fill("rejected", summary.rejected_by_agency, (r) => [r.agency || "(not from a record)", r.name, r.items, r.deliveries]);
  fill("timeliness", summary.publication.agencies, (a) =>
    [a.agency, a.name, a.on_time, a.late, a.due, a.overdue,
     a.on_time_rate === null ? "" : (100 * a.on_time_rate).toFixed(1) + " %"]);
  fill("near", summary.publication.near_or_past, (r, tr) => {
    if (r.overdue) tr.className = "overdue";
    return [r.record_uid, r.kind, r.agency, r.subject_name || r.subject, r.publish_by,
            r.overdue ? "overdue by " + (-r.days_left) + " d" : r.days_left + " d"];
  });
  fill("entries", summary.list_entries_awaiting, (e, tr) => {
    tr.dataset.entry = e.id;
    const td = document.createElement("td");
    for (const action of e.allowed_actions) {
      td.appendChild(button(action, "transition action-" + action, () => transition(e.id, action)));
    }
    return [e.id, e.list, e.subject_name || e.subject, e.state, e.awaiting, e.argument_deadline, td];
  });
  fill("certificates", summary.certificates, (c, tr) => {
    if (c.days_left < 30) tr.className = "overdue";
    return [c.kind, c.key_id, c.subject, c.not_after, c.days_left, c.active ? "yes" : ""];
  });
  document.getElementById("scheduler").textContent =
    "Scheduler: " + (summary.scheduler.leader_known ? "leader known" : "NO LEADER") + " — " + summary.scheduler.detail;
}

function reloadCharts() {
  // the pictures are drawn by the server (SVG); a new query string fetches them again
  for (const img of document.querySelectorAll("img.chart")) {
    img.src = img.src.split("?")[0] + "?t=" + Date.now();
  }
}

async function load() {
  reloadCharts();
  try {
    render(await api("GET", "/v1/ops/summary"));
  } catch (e) { status("Could not load the summary: " + e.message, true); }
}

async function searchAudit(event) {
  if (event) event.preventDefault();
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("audit-form"))) {
    if (value) params.set(name, value);
  }
  params.set("limit", "100");
  try {
    const page = await api("GET", "/v1/audit?" + params.toString());
    fill("audit", page.items, (a) => [a.seq, a.at, a.actor, a.sector, a.action, a.subject, a.outcome, a.status]);
  } catch (e) { status("Audit search failed: " + e.message, true); }
}

async function whoami() {
  try {
    const me = await api("GET", "/v1/access/whoami");
    document.getElementById("whoami").textContent = me.name + " (" + me.sector + ", key " + me.key_id + ")";
  } catch (e) { status("Could not identify the key: " + e.message, true); }
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("refresh").addEventListener("click", load);
  document.getElementById("audit-form").addEventListener("submit", searchAudit);
  await whoami();
  await load();
  document.body.dataset.loaded = "1";
});
