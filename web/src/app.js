// The supervisor's dashboard: plain ES module over gridd's /dashboard/api/
// (docs/dashboard.md). Every request carries the token the user logged in
// with; what the API refuses is shown, never worked around.
import { WORDS, STATUS, EVENT } from './i18n.js';

const API = '/dashboard/api/';
const OPEN = ['SUBMITTED', 'ROUTED', 'ACCEPTED', 'IN_PROGRESS', 'WAITING'];
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem('gridcase.lang') || 'zh',
  token: sessionStorage.getItem('gridcase.token') || '',
  scope: null, today: '', unit: null, path: [], metric: 'open', figures: null, counts: null,
  map: null, layer: null, shapesKey: '', pageTokens: [''], live: [], cursor: '', source: null,
};
// For the browser test and the curious: what the page fetched and when.
window.gridDashboard = { state, requests: [], renders: [] };

const t = (k) => (WORDS[state.lang][k] ?? WORDS.zh[k] ?? k);
const strip = (s, p) => (s || '').replace(p, '');
const statusName = (s) => { const k = strip(s, 'CASE_STATUS_'); return STATUS[state.lang][k] || k; };
const eventName = (e) => { const k = strip(e, 'EVENT_TYPE_'); return EVENT[state.lang][k] || k.toLowerCase().replace(/_/g, ' '); };
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const when = (ts) => (ts ? new Date(ts).toLocaleString(state.lang === 'zh' ? 'zh-CN' : 'en-GB', { hour12: false }) : '');
const pct = (x) => (x == null ? '' : `${(100 * x).toFixed(1)}%`);

class ApiError extends Error {
  constructor(status, body) { super(body?.error?.message || `HTTP ${status}`); this.status = status; this.reason = body?.error?.reason; }
}

async function api(endpoint, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null && v !== false));
  const url = `${API}${endpoint}${q.toString() ? `?${q}` : ''}`;
  window.gridDashboard.requests.push(url);
  const r = await fetch(url, { headers: { Authorization: `Bearer ${state.token}` } });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, body);
  return body;
}

function translate() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  $('lang').textContent = t('lang');
  document.title = t('title');
}

// ---- login ----------------------------------------------------------------
async function login(token) {
  window.gridDashboard.loginAt = performance.now();
  state.token = token;
  const s = await api('session');
  sessionStorage.setItem('gridcase.token', token);
  state.scope = s.scope.unit;
  state.today = s.today;
  $('rank-form').from.value = monthAgo();
  $('rank-form').to.value = state.today;
  $('login').hidden = true;
  $('app').hidden = false;
  $('scope-name').textContent = state.scope.name;
  startLive();
  await drill(state.scope.code, [{ code: state.scope.code, name: state.scope.name }]);
  route();
}

function logout() {
  sessionStorage.removeItem('gridcase.token');
  if (state.source) state.source.close();
  location.hash = '';
  location.reload();
}

// ---- map ------------------------------------------------------------------
const COLOURS = ['#fff5eb', '#fdd0a2', '#fdae6b', '#f16913', '#d94801', '#8c2d04'];
const RATE_COLOURS = ['#d73027', '#fc8d59', '#fee08b', '#d9ef8b', '#91cf60', '#1a9850'];

function valueOf(child) {
  if (state.metric === 'open' || state.metric === 'overdue') return state.counts?.children?.[child]?.[state.metric] ?? 0;
  const f = state.figures?.children?.find((c) => c.unitCode === child);
  return f && Number(f.cases) > 0 ? f[state.metric] : null;
}

function scale() {
  if (state.metric === 'open' || state.metric === 'overdue') {
    const max = Math.max(1, ...Object.values(state.counts?.children || {}).map((c) => c[state.metric]));
    const step = Math.max(1, Math.ceil(max / 5));
    return { colour: (v) => COLOURS[Math.min(5, Math.ceil(v / step))], stops: [0, 1, 2, 3, 4, 5].map((i) => [COLOURS[i], i === 0 ? '0' : `≤${i * step}`]) };
  }
  return { colour: (v) => (v == null ? '#ddd' : RATE_COLOURS[Math.min(5, Math.floor(v * 6))]),
    stops: [['#ddd', t('none')], ...RATE_COLOURS.map((c, i) => [c, `≥${Math.round((100 * i) / 6)}%`])] };
}

function restyle() {
  if (!state.layer) return;
  const s = scale();
  state.layer.setStyle((f) => ({ fillColor: s.colour(valueOf(f.properties.child)), fillOpacity: 0.8, color: '#555', weight: 0.6 }));
  $('legend').innerHTML = s.stops.map(([c, l]) => `<span><i style="background:${c}"></i>${esc(l)}</span>`).join('');
}

async function loadShapes() {
  const zoom = state.map.getZoom();
  const key = `${state.unit}@${zoom}`;
  if (key === state.shapesKey) return;
  const started = performance.now();
  const shapes = await api('shapes', { unit: state.unit, zoom });
  state.shapesKey = key;
  const fit = !state.layer;
  if (state.layer) state.layer.remove();
  state.layer = L.geoJSON(shapes, {
    onEachFeature: (f, layer) => {
      layer.on('click', () => onUnitClick(f.properties));
      layer.bindTooltip(() => `${esc(f.properties.name)}: ${esc(valueLabel(f.properties.child))}`, { sticky: true });
    },
  }).addTo(state.map);
  restyle();
  if (fit && shapes.features.length) state.map.fitBounds(state.layer.getBounds(), { animate: false });
  const ms = Math.round(performance.now() - started);
  window.gridDashboard.renders.push({ unit: state.unit, zoom, outline: shapes.outline, grids: shapes.grids,
    features: shapes.features.length, ms, sinceLogin: Math.round(performance.now() - window.gridDashboard.loginAt) });
  // Children's outlines when the grids are too small to see at this zoom (docs/dashboard.md).
  const shown = shapes.outline === 'children' ? ` (${shapes.features.length} ${t('units_shown')})` : '';
  $('map-status').textContent = `${shapes.grids} ${t('grids')}${shown} · ${ms} ${t('ms')}`;
}

function valueLabel(child) {
  const v = valueOf(child);
  return state.metric === 'open' || state.metric === 'overdue' ? String(v) : (v == null ? '-' : pct(v));
}

function onUnitClick(p) {
  const child = p.child;
  if (child === state.unit) return showUnitCases(child, p.name);
  const name = state.figures?.children?.find((c) => c.unitCode === child)?.unitName || p.name;
  drill(child, [...state.path, { code: child, name }]);
}

async function drill(code, path) {
  state.unit = code;
  state.path = path;
  state.shapesKey = '';
  if (state.layer) { state.layer.remove(); state.layer = null; }
  $('crumbs').innerHTML = path.map((u, i) => (i < path.length - 1 ? `<span class="crumb" data-i="${i}">${esc(u.name)}</span> › ` : `<strong>${esc(u.name)}</strong>`)).join('');
  for (const c of $('crumbs').querySelectorAll('.crumb')) {
    c.onclick = () => { const i = Number(c.dataset.i); drill(path[i].code, path.slice(0, i + 1)); };
  }
  if (!state.map) {
    // No tile layer: our own boundaries on a plain background (canvas: thousands of grids).
    state.map = L.map('map', { preferCanvas: true, zoomSnap: 1, attributionControl: false });
    state.map.setView([19.75, 110.0], 10);
    state.map.on('zoomend', () => loadShapes().catch(showError));
  }
  const [counts, figures] = await Promise.all([
    api('counts', { unit: code }),
    api('figures', { unit: code, from: monthAgo(), to: state.today }),
  ]);
  state.counts = counts;
  state.figures = figures;
  // ListCases is scanned 5,000 cases deep at most: say so when it was cut short.
  $('counts-note').hidden = counts.complete !== false;
  await loadShapes();
  await showUnitCases(code, path[path.length - 1].name);
}

async function showUnitCases(code, name) {
  $('unit-title').textContent = name;
  const r = await api('cases', { unit: code, status: OPEN.join(','), page_size: 50 });
  $('unit-cases').innerHTML = caseRows(r.cases, false);
  bindCaseRows($('unit-cases'));
}

function caseRows(cases, wide) {
  if (!cases.length) return `<tr><td class="muted">${t('no_cases')}</td></tr>`;
  const head = `<tr><th>${t('id')}</th><th>${t('status')}</th>${wide ? `<th>${t('category')}</th><th>${t('created')}</th>` : ''}<th>${t('grid')}</th></tr>`;
  return head + cases.map((c) => {
    const overdue = c.deadlines?.acceptOverdue || c.deadlines?.resolveOverdue;
    return `<tr class="click" data-case="${esc(c.id)}"><td>${esc(c.id)}</td><td class="${overdue ? 'overdue' : ''}">${esc(statusName(c.status))}${overdue ? ` · ${t('overdue_flag')}` : ''}</td>${wide ? `<td>${esc(c.category)}</td><td>${esc(when(c.createdAt))}</td>` : ''}<td>${esc(c.routing?.path || c.unitCode)}</td></tr>`;
  }).join('');
}

function bindCaseRows(table) {
  for (const tr of table.querySelectorAll('tr[data-case]')) tr.onclick = () => { location.hash = `case/${tr.dataset.case}`; };
}

function monthAgo() {
  const d = new Date(`${state.today}T00:00:00+08:00`);
  d.setDate(d.getDate() - 30);
  return d.toISOString().slice(0, 10);
}

// ---- case list ------------------------------------------------------------
// Paging: state.pageTokens[i] is the token of page i ('' for the first), so
// going back is asking again with an earlier token.
async function loadCases(page = 0) {
  const f = new FormData($('filters'));
  $('cases-error').textContent = '';
  try {
    const r = await api('cases', { unit: state.unit || state.scope.code, status: f.get('status'), category: f.get('category'),
      overdue: f.get('overdue') ? 'true' : '', from: f.get('from'), to: f.get('to'), assignee: f.get('assignee'),
      page_size: 20, page_token: state.pageTokens[page] });
    state.pageTokens = state.pageTokens.slice(0, page + 1);
    if (r.nextPageToken) state.pageTokens.push(r.nextPageToken);
    state.page = page;
    $('case-table').innerHTML = caseRows(r.cases, true);
    bindCaseRows($('case-table'));
    $('next-page').disabled = !r.nextPageToken;
    $('prev-page').disabled = page === 0;
    $('first-page').disabled = page === 0;
    $('page-number').textContent = String(page + 1);
  } catch (e) { $('cases-error').textContent = e.message; }
}

// ---- case page ------------------------------------------------------------
async function showCase(id) {
  const view = $('view-case');
  view.innerHTML = `<p class="muted">${t('loading')}</p>`;
  let r;
  try { r = await api(`cases/${encodeURIComponent(id)}`); } catch (e) { view.innerHTML = `<p class="error">${esc(e.message)}</p>`; return; }
  const c = r.case;
  const d = c.deadlines || {};
  const steps = (c.routing?.steps || []).map((s) => `<li>${s.matched ? '✔' : '·'} ${esc(strip(s.method, 'ROUTING_METHOD_'))}: ${esc(s.detail)}</li>`).join('');
  const subtasks = (c.subtasks || []).map((s) => `<tr><td>${esc(s.departmentCode)}</td><td>${esc(strip(s.status, 'SUB_TASK_STATUS_'))}</td><td>${esc(when(s.arriveDue))}</td><td>${esc(when(s.arrivedAt))}</td><td>${esc(when(s.doneAt))}</td></tr>`).join('');
  const events = r.events.map((e) => `<li><strong>${esc(eventName(e.type))}</strong> <span class="muted">${esc(when(e.at))} · ${esc(e.actor)}${e.automatic ? ' (auto)' : ''}</span>${e.toUnit ? ` → ${esc(e.toUnit)}` : ''}${e.note ? `<br>${esc(e.note)}` : ''}</li>`).join('');
  view.innerHTML = `
    <p><a href="#cases">← ${t('back')}</a></p>
    <div class="card" id="case-head"><h3>${esc(c.id)} · ${esc(statusName(c.status))}</h3>
      <p>${esc(c.category)} · ${esc(c.description)}</p>
      <p>${t('grid')}: ${esc(c.routing?.path || c.unitCode)} · ${t('citizen')}: ${esc(c.citizen?.name)} ${esc(c.citizen?.phone)}</p></div>
    <div class="card"><h3>${t('routing')}</h3><p>${esc(c.routing?.explanation)}</p><ul>${steps}</ul></div>
    <div class="card"><h3>${t('deadlines')}</h3>
      <p>${t('accept_due')}: ${esc(when(d.acceptDue))} ${d.acceptOverdue ? `<span class="overdue">${t('overdue_flag')}</span>` : ''}</p>
      <p>${t('resolve_due')}: ${esc(when(d.resolveDue))} ${d.resolveOverdue ? `<span class="overdue">${t('overdue_flag')}</span>` : ''}</p>
      ${c.escalationUnitCode ? `<p>${t('escalated_to')}: ${esc(c.escalationUnitCode)}</p>` : ''}</div>
    <div class="card"><h3>${t('subtasks')}</h3>${subtasks ? `<table class="list"><tr><th>${t('department')}</th><th>${t('status')}</th><th>${t('arrive_due')}</th><th>${t('arrived')}</th><th>${t('done_at')}</th></tr>${subtasks}</table>` : `<p class="muted">${t('none')}</p>`}</div>
    <div class="card"><h3>${t('history')}</h3><ul class="timeline" id="timeline">${events}</ul></div>`;
}

// ---- rankings -------------------------------------------------------------
let chart = null;
async function loadRank() {
  const f = new FormData($('rank-form'));
  const by = f.get('by');
  const r = await api('figures', { unit: state.unit || state.scope.code, from: f.get('from'), to: f.get('to') });
  const rows = [...r.children].sort((a, b) => b[by] - a[by]);
  $('rank-table').innerHTML = `<tr><th>${t('unit')}</th><th>${t('cases')}</th><th>${t('m_response')}</th><th>${t('m_resolution')}</th><th>${t('m_satisfaction')}</th><th>${t('m_ontime')}</th></tr>` +
    rows.map((c) => `<tr><td>${esc(c.unitName)}</td><td>${esc(c.cases)}</td><td>${pct(c.responseRate)}</td><td>${pct(c.resolutionRate)}</td><td>${pct(c.satisfactionRate)}</td><td>${pct(c.onTimeResolutionRate)}</td></tr>`).join('');
  chart = chart || echarts.init($('chart'));
  chart.setOption({
    animation: false, grid: { left: 120, right: 30, top: 20, bottom: 30 },
    xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    yAxis: { type: 'category', inverse: true, data: rows.map((c) => c.unitName) },
    series: [{ type: 'bar', data: rows.map((c) => +(100 * c[by]).toFixed(1)), itemStyle: { color: '#b71c1c' }, label: { show: true, position: 'right', formatter: '{c}%' } }],
  }, true);
  chart.resize();
}

// ---- live escalations (Server-Sent Events, resumed by Last-Event-ID) -------
function startLive() {
  // EventSource sends Last-Event-ID itself when it reconnects; the token goes
  // in the query because EventSource cannot set a header.
  const src = new EventSource(`${API}escalations?access_token=${encodeURIComponent(state.token)}&unit=${encodeURIComponent(state.scope.code)}`);
  state.source = src;
  src.onopen = () => { $('live-state').textContent = t('live_on'); };
  src.onerror = () => { $('live-state').textContent = t('live_off'); };
  src.addEventListener('cursor', (m) => { state.cursor = m.lastEventId; $('live-cursor').textContent = m.lastEventId; });
  src.addEventListener('entry', (m) => {
    const entry = JSON.parse(m.data);
    state.live.unshift(entry);
    $('live-badge').hidden = false;
    $('live-badge').textContent = String(state.live.length);
    renderLive();
  });
}

function renderLive() {
  $('live-table').innerHTML = `<tr><th>cursor</th><th>${t('time')}</th><th>${t('event')}</th><th>${t('id')}</th><th>${t('escalated_to')}</th></tr>` +
    state.live.map((e) => `<tr class="click" data-case="${esc(e.event.caseId)}"><td>${esc(e.cursor)}</td><td>${esc(when(e.event.at))}</td><td>${esc(eventName(e.event.type))}${e.event.automatic ? ' (auto)' : ''}</td><td>${esc(e.event.caseId)}</td><td>${esc(e.event.toUnit)} ${esc(strip(e.event.toLevel, 'UNIT_LEVEL_'))}</td></tr>`).join('');
  bindCaseRows($('live-table'));
}

// ---- views ----------------------------------------------------------------
function route() {
  const [view, arg] = (location.hash.slice(1) || 'map').split('/');
  for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== `view-${view}`;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('active', a.getAttribute('href') === `#${view}`);
  if (view === 'map' && state.map) state.map.invalidateSize();
  if (view === 'cases') loadCases(0);
  if (view === 'case') showCase(decodeURIComponent(arg));
  if (view === 'rank') loadRank().catch(showError);
  if (view === 'live') renderLive();
}

function showError(e) { $('map-status').textContent = e.message; }

// The three rates, by their CaseFigures field and their word.
const RATES = [['responseRate', 'm_response'], ['resolutionRate', 'm_resolution'], ['satisfactionRate', 'm_satisfaction']];

function init() {
  const options = (select, list) => {
    for (const [value, word] of list) select.insertAdjacentHTML('beforeend', `<option value="${value}" data-t="${word}"></option>`);
  };
  options($('metric'), [['open', 'm_open'], ['overdue', 'm_overdue'], ...RATES]);
  options($('rank-form').by, [...RATES, ['onTimeResolutionRate', 'm_ontime']]);
  translate();
  const select = document.querySelector('#filters select[name=status]');
  for (const s of Object.keys(STATUS.zh)) select.insertAdjacentHTML('beforeend', `<option value="${s}">${esc(statusName(s))}</option>`);
  $('lang').onclick = () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('gridcase.lang', state.lang);
    translate();
    if (state.scope) route();
  };
  $('logout').onclick = logout;
  $('metric').onchange = () => { state.metric = $('metric').value; restyle(); };
  $('filters').onsubmit = (e) => { e.preventDefault(); state.pageTokens = ['']; loadCases(0); };
  $('first-page').onclick = () => loadCases(0);
  $('prev-page').onclick = () => loadCases(Math.max(0, (state.page || 0) - 1));
  $('next-page').onclick = () => loadCases((state.page || 0) + 1);
  $('rank-form').onsubmit = (e) => { e.preventDefault(); loadRank().catch(showError); };
  window.addEventListener('hashchange', route);
  $('login-form').onsubmit = (e) => {
    e.preventDefault();
    $('login-error').textContent = '';
    login($('token').value.trim()).catch((err) => { $('login-error').textContent = err.message; });
  };
  if (state.token) login(state.token).catch(() => sessionStorage.removeItem('gridcase.token'));
}

init();
