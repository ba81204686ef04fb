// The wasmhost dashboard: renders the lattice picture the server streams (Server-Sent Events) and
// sends the actions as JSON POSTs. No framework, no build step.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const $ = (id) => document.getElementById(id);
let state = { lattice: { hosts: [], links: [], claims: [] }, watches: [] };

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
const short = (key) => (key && key.length > 16 ? key.slice(0, 8) + "…" + key.slice(-4) : key || "");
const keyCell = (key) => `<span class="key" title="${esc(key)}">${esc(short(key))}</span>`;
const hostName = (id) => { const h = state.lattice.hosts.find((h) => h.id === id); return h && h.friendly_name ? h.friendly_name : short(id); };
const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 60 ? `${s}s ago` : `${Math.round(s / 60)}m ago`; };
// The host's uptime now: what it reported at its last heartbeat plus the time since.
const uptime = (h) => {
  let s = Math.round(h.uptime_seconds + Math.max(0, (Date.now() - h.last_seen_ms) / 1000));
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  s %= 60;
  return d ? `${d}d ${hr}h` : hr ? `${hr}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
};
const pairs = (text) => Object.fromEntries(text.split(",").map((p) => p.trim()).filter(Boolean).map((p) => { const i = p.indexOf("="); return i < 0 ? [p, ""] : [p.slice(0, i).trim(), p.slice(i + 1).trim()]; }));

async function act(path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  try {
    const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
    const reply = await response.json();
    show(reply.ok ? "info" : "error", reply.ok ? reply.message : reply.error);
    return reply.ok;
  } catch (e) {
    show("error", "the dashboard did not answer: " + e);
    return false;
  }
}

function show(level, text) {
  const message = $("message");
  message.className = "message " + level;
  message.textContent = text;
}

function log(level, text, timeMs) {
  const item = document.createElement("li");
  item.className = level;
  item.textContent = `${new Date(timeMs || Date.now()).toLocaleTimeString()}  ${text}`;
  const list = $("log");
  list.prepend(item);
  while (list.children.length > 300) list.lastChild.remove();
}

function describe(change) {
  const on = change.host_id ? ` on ${hostName(change.host_id)}` : "";
  switch (change.kind) {
    case "host_added": return `host ${change.host.friendly_name || short(change.host.id)} joined`;
    case "host_updated": return `host ${change.host.friendly_name || short(change.host.id)} updated`;
    case "host_removed": return `host ${hostName(change.host_id)} ${change.reason === "expired" ? "missed its heartbeats" : "stopped"}`;
    case "actor_added": return `actor ${change.actor.name || short(change.actor.public_key)} started${on} (${change.actor.instances.length} instance(s))`;
    case "actor_scaled": return `actor ${short(change.public_key)}${on}: ${change.previous} → ${change.instances} instance(s)`;
    case "actor_changed": return `actor ${change.actor.name || short(change.actor.public_key)}${on}: details known`;
    case "actor_updated": return `actor ${short(change.public_key)}${on} updated to revision ${change.revision}`;
    case "actor_update_failed": return `update of ${short(change.public_key)}${on} failed (revision ${change.revision} keeps running): ${change.reason}`;
    case "actor_removed": return `actor ${short(change.public_key)} stopped${on}`;
    case "actor_start_failed": return `start of ${change.actor_ref}${on} failed: ${change.error}`;
    case "provider_added": return `provider ${change.provider.name || short(change.provider.public_key)} (${change.provider.link_name}) started${on}`;
    case "provider_health_changed": return `provider ${short(change.public_key)} (${change.link_name})${on}: ${change.health}${change.exit_reason ? " — " + change.exit_reason : ""}`;
    case "provider_removed": return `provider ${short(change.public_key)} (${change.link_name}) removed${on}: ${change.reason}`;
    case "provider_start_failed": return `start of provider ${change.provider_ref}${on} failed: ${change.error}`;
    case "link_set": return `link ${short(change.link.actor_id)} → ${short(change.link.provider_id)} (${change.link.contract_id}, ${change.link.link_name})`;
    case "link_deleted": return `link of ${short(change.actor_id)} for ${change.contract_id} (${change.link_name}) deleted`;
    case "claims_set": return `claims of ${change.claims.name || short(change.claims.public_key)} (revision ${change.claims.revision})`;
    default: return change.kind;
  }
}

function render() {
  const lattice = state.lattice;
  $("lattice-name").textContent = lattice.lattice || "";
  const hosts = lattice.hosts;
  $("host-count").textContent = `(${hosts.length})`;
  $("hosts").innerHTML = hosts.map((h) => `<tr data-host="${esc(h.id)}"><td>${esc(h.friendly_name)}</td><td>${keyCell(h.id)}</td>
    <td>${Object.entries(h.labels).filter(([k]) => !k.startsWith("hostcore.")).map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`).join("")}</td>
    <td>${esc(h.version)}</td><td title="${esc(h.uptime_human)} at the last heartbeat">${uptime(h)}</td><td>${ago(h.last_seen_ms)}</td></tr>`).join("") || `<tr><td colspan="6" class="empty">no host answered yet</td></tr>`;

  const actors = hosts.flatMap((h) => h.actors.map((a) => ({ ...a, host: h })));
  $("actor-count").textContent = `(${actors.length})`;
  $("actors").innerHTML = actors.map((a) => `<tr data-actor="${esc(a.public_key)}" data-host="${esc(a.host.id)}">
    <td class="name">${esc(a.name)}</td><td>${keyCell(a.public_key)}</td><td>${esc(a.host.friendly_name || short(a.host.id))}</td>
    <td class="instances">${a.instances.length}</td><td class="revision">${a.revision}</td><td><code>${esc(a.image_ref)}</code></td>
    <td><input class="small scale-count" type="number" min="0" value="${a.instances.length}"> <button class="small scale">Scale</button>
    <button class="small danger stop">Stop</button></td></tr>`).join("") || `<tr><td colspan="7" class="empty">no actors</td></tr>`;

  const providers = hosts.flatMap((h) => h.providers.map((p) => ({ ...p, host: h })));
  $("provider-count").textContent = `(${providers.length})`;
  $("providers").innerHTML = providers.map((p) => `<tr data-provider="${esc(p.public_key)}" data-link="${esc(p.link_name)}" data-contract="${esc(p.contract_id)}" data-host="${esc(p.host.id)}">
    <td>${esc(p.name)}</td><td>${keyCell(p.public_key)}</td><td>${esc(p.link_name)}</td><td>${esc(p.contract_id)}</td>
    <td>${esc(p.host.friendly_name || short(p.host.id))}</td><td class="health health-${esc(p.health)}" title="${esc(p.exit_reason || "")}">${esc(p.health)}</td>
    <td><button class="small danger stop-provider">Stop</button></td></tr>`).join("") || `<tr><td colspan="7" class="empty">no providers</td></tr>`;

  $("link-count").textContent = `(${lattice.links.length})`;
  $("links").innerHTML = lattice.links.map((l) => `<tr data-actor="${esc(l.actor_id)}" data-contract="${esc(l.contract_id)}" data-link="${esc(l.link_name)}">
    <td>${keyCell(l.actor_id)}</td><td>${keyCell(l.provider_id)}</td><td>${esc(l.contract_id)}</td><td>${esc(l.link_name)}</td>
    <td>${Object.entries(l.values).map(([k, v]) => `<span class="label">${esc(k)}=${esc(v)}</span>`).join("")}</td>
    <td><button class="small danger delete-link">Delete</button></td></tr>`).join("") || `<tr><td colspan="6" class="empty">no links</td></tr>`;

  $("watches").innerHTML = state.watches.map((w) => `<li data-watch="${w.id}"><code>${esc(w.path)}</code> → ${keyCell(w.public_key)} on ${esc(hostName(w.host_id))}
    <button class="small danger stop-watch">Stop watching</button><br><span class="muted">${esc(w.last)}</span></li>`).join("") || `<li class="empty">no file is watched</li>`;

  for (const select of document.querySelectorAll(".host-select")) {
    const chosen = select.value;
    select.innerHTML = `<option value="">auction (any host matching the constraints)</option>` +
      hosts.map((h) => `<option value="${esc(h.id)}">${esc(h.friendly_name || h.id)}</option>`).join("");
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button || button.type === "submit") return;
  const row = button.closest("tr, li");
  const d = row ? row.dataset : {};
  if (button.classList.contains("scale")) {
    const host = state.lattice.hosts.find((h) => h.id === d.host);
    const actor = host && host.actors.find((a) => a.public_key === d.actor);
    act("/api/actors/scale", { host_id: d.host, actor_id: d.actor, actor_ref: actor ? actor.image_ref : "", count: Number(row.querySelector(".scale-count").value) });
  } else if (button.classList.contains("stop")) {
    act("/api/actors/stop", { host_id: d.host, actor_id: d.actor, count: 0 });
  } else if (button.classList.contains("stop-provider")) {
    act("/api/providers/stop", { host_id: d.host, provider_id: d.provider, link_name: d.link, contract_id: d.contract });
  } else if (button.classList.contains("delete-link")) {
    act("/api/links/delete", { actor_id: d.actor, contract_id: d.contract, link_name: d.link });
  } else if (button.classList.contains("stop-watch")) {
    act("/api/watches/stop", { id: Number(d.watch) });
  }
});

$("start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("/api/actors/start", {
    source: $("start-source").value,
    reference: $("start-reference").value,
    hot_reload: $("start-hot-reload").checked,
    host_id: $("start-host").value || null,
    constraints: pairs($("start-constraints").value),
    count: Number($("start-count").value) || 1,
  });
});
$("start-hot-reload").addEventListener("change", () => { if ($("start-hot-reload").checked) $("start-source").value = "file"; });

$("provider-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("/api/providers/start", {
    provider_ref: $("provider-ref").value,
    link_name: $("provider-link").value || "default",
    host_id: $("provider-host").value || null,
    constraints: pairs($("provider-constraints").value),
    config: $("provider-config").value || null,
  });
});

$("link-form").addEventListener("submit", (event) => {
  event.preventDefault();
  act("/api/links/put", {
    actor_id: $("link-actor").value.trim(),
    provider_id: $("link-provider").value.trim(),
    contract_id: $("link-contract").value.trim(),
    link_name: $("link-name").value.trim() || "default",
    values: pairs($("link-values").value),
  });
});

function connect() {
  const events = new EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  events.addEventListener("open", () => { $("status").textContent = "live"; $("status").className = "status online"; });
  events.addEventListener("error", () => { $("status").textContent = "reconnecting…"; $("status").className = "status offline"; });
  events.addEventListener("state", (e) => { state = JSON.parse(e.data); render(); });
  events.addEventListener("change", (e) => { const change = JSON.parse(e.data); if (change.kind !== "host_seen") log("change", describe(change)); });
  events.addEventListener("log", (e) => { const line = JSON.parse(e.data); log(line.level, line.message, line.time_ms); });
}
connect();
setInterval(render, 5000); // keeps "last seen" fresh between changes
