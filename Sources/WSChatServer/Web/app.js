// wschat in a browser: the same client semantics as the terminal engine (docs/PROTOCOL.md).
// Reconnect with capped exponential backoff and full jitter; keepalive with the protocol's
// ping (browsers hide WebSocket pings); an outbox of pending messages resent with their cid;
// rooms rejoined with since and epoch. Remote text only ever goes in as textContent.
"use strict";

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30000;
const STABLE_AFTER_MS = 10000;
const PING_INTERVAL_MS = 15000;
const PING_TIMEOUT_MS = 10000;
const NICK_KEY = "wschat.nick";
const SECRET_KEY = "wschat.secret";

const $ = (id) => document.getElementById(id);

/** A buffer: a room (key "#name") or a conversation with one nick (key "@nick"). */
function makeBuffer(kind, name) {
  // older: "more" (scrolling to the top asks the server), "loading", "beginning" or "unsupported".
  return {
    kind, name, topic: "", members: [], away: new Set(), lines: [], unread: 0, mention: false, lastId: null,
    epoch: null, older: "more",
  };
}

const state = {
  nick: localStorage.getItem(NICK_KEY) || "",
  buffers: new Map(),
  current: null,
  /** The room a /join asked to show, once it is joined. */
  pendingSwitch: null,
  /** Messages typed and not yet echoed by the server, in typing order. */
  outbox: [],
  seenDirect: new Set(),
  socket: null,
  welcomed: false,
  attempt: 0,
  connectedAt: 0,
  retryTimer: null,
  retryAt: 0,
  pingTimer: null,
  pingSequence: 0,
  pingSentAt: new Map(),
  latency: null,
  stopped: null,
  /** The away reason the user set, told to every new session until /back. */
  away: null,
  shownAway: null,
};

const fold = (name) => name.replace(/^#/, "").toLowerCase();
const roomKey = (name) => "#" + fold(name);
const nickKey = (nick) => "@" + nick.toLowerCase();

function newCID() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The same colour as in the terminal client: FNV-1a of the folded nick, 12 colours. */
function nickColour(nick) {
  let hash = 2166136261;
  for (const byte of new TextEncoder().encode(nick.toLowerCase())) {
    hash = Math.imul(hash ^ byte, 16777619) >>> 0;
  }
  return hash % 12;
}

function mentions(text, nick) {
  if (!nick) return false;
  const escaped = nick.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\p{L}\\p{N}_])${escaped}($|[^\\p{L}\\p{N}_])`, "iu").test(text);
}

// MARK: Buffers and lines

/**
 * The secret this browser says in hello (kept for this server's origin): the server files
 * the user's direct messages under it and reads them back only to whoever says it.
 */
function secret() {
  let kept = localStorage.getItem(SECRET_KEY);
  if (!kept) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    kept = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(SECRET_KEY, kept);
  }
  return kept;
}

function hello() {
  return send({ type: "hello", nick: state.nick, client: "wschat-web/1", secret: secret() });
}

function buffer(key, kind, name) {
  let found = state.buffers.get(key);
  if (!found) {
    found = makeBuffer(kind, name);
    state.buffers.set(key, found);
    renderBuffers();
  }
  return found;
}

function currentBuffer() {
  return state.current ? state.buffers.get(state.current) : null;
}

/** Adds a line; counts it unread (and a mention) when its buffer is not on screen. */
function addLine(key, line) {
  const target = state.buffers.get(key);
  if (!target) return;
  target.lines.push(line);
  if (target.lines.length > 2000) target.lines.splice(0, target.lines.length - 2000);
  if (key !== state.current && line.kind === "message" && !line.own) {
    target.unread += 1;
    if (line.mention || target.kind === "dm") target.mention = true;
    renderBuffers();
  }
  if (key === state.current) appendLineElement(line);
}

/** A line in the buffer on screen, or in the first one there is. */
function note(text, kind = "notice") {
  const key = state.current || [...state.buffers.keys()][0];
  if (!key) {
    showConnection(text, kind === "error");
    return;
  }
  addLine(key, { kind, text, time: Date.now() });
}

function switchTo(key) {
  if (!state.buffers.has(key)) return;
  state.current = key;
  const shown = state.buffers.get(key);
  shown.unread = 0;
  shown.mention = false;
  renderBuffers();
  renderMessages();
  renderHeader();
  history.replaceState(null, "", "#" + [...state.buffers.values()].filter((b) => b.kind === "room").map((b) => b.name).join(","));
}

// MARK: Rendering (text only ever as textContent)

function renderHeader() {
  const shown = currentBuffer();
  $("title").textContent = shown ? (shown.kind === "room" ? "#" + shown.name : shown.name + " (direct messages)") : document.body.dataset.server;
  $("topic").textContent = shown && shown.kind === "room" ? shown.topic : "";
  $("prompt").textContent = shown ? (shown.kind === "room" ? "#" + shown.name : "@" + shown.name) : "›";
  renderTitle();
}

function renderTitle() {
  const unread = [...state.buffers.values()].reduce((sum, b) => sum + b.unread, 0);
  const mention = [...state.buffers.values()].some((b) => b.mention);
  const base = document.body.dataset.server || "wschat";
  document.title = unread > 0 ? `(${unread}${mention ? "!" : ""}) ${base}` : base;
}

function renderBuffers() {
  const list = $("buffer-list");
  list.replaceChildren();
  for (const [key, item] of state.buffers) {
    const entry = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-current", key === state.current ? "true" : "false");
    const label = document.createElement("span");
    label.textContent = (item.kind === "room" ? "#" : "@") + item.name;
    const badge = document.createElement("span");
    badge.className = "badge" + (item.mention ? " mention" : item.unread ? " unread" : "");
    badge.textContent = item.unread ? (item.mention ? "!" : "") + item.unread : "";
    button.setAttribute(
      "aria-label", `${label.textContent}${item.unread ? `, ${item.unread} unread${item.mention ? ", mentions you" : ""}` : ""}`);
    button.append(label, badge);
    button.addEventListener("click", () => {
      switchTo(key);
      $("input").focus();
    });
    entry.append(button);
    list.append(entry);
  }
  renderTitle();
}

function renderMessages() {
  const list = $("messages");
  list.replaceChildren();
  const shown = currentBuffer();
  if (!shown) return;
  for (const line of shown.lines) appendLineElement(line);
}

function appendLineElement(line) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  const item = document.createElement("li");
  line.element = item;
  fillLine(item, line);
  list.append(item);
  if (atBottom || line.own) list.scrollTop = list.scrollHeight;
}

function fillLine(item, line) {
  item.replaceChildren();
  item.className = "line-" + line.kind + (line.mention ? " line-mention" : "");
  const time = document.createElement("time");
  time.className = "time";
  const date = new Date(line.time);
  time.dateTime = date.toISOString();
  const clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  // A search match may be from any day: it shows its date too.
  time.textContent = line.kind === "match" ? `${date.toLocaleDateString()} ${clock}` : clock;
  item.append(time);
  if (line.from !== undefined) {
    const nick = document.createElement("span");
    nick.className = "nick nick-" + nickColour(line.from);
    nick.textContent = line.action ? "* " + line.from : line.from;
    item.append(nick);
  }
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = line.text;
  item.append(text);
  if (line.kind === "pending") {
    const pending = document.createElement("span");
    pending.className = "state";
    item.append(pending);
  }
  if (line.kind === "failed") {
    const reason = document.createElement("span");
    reason.textContent = " — not sent: " + line.reason;
    item.append(reason);
  }
}

function updateLine(line) {
  if (line.element && line.element.isConnected) fillLine(line.element, line);
}

function showConnection(text, offline) {
  const element = $("connection");
  element.textContent = text;
  element.classList.toggle("offline", Boolean(offline));
}

// MARK: Connection

function connect() {
  clearTimeout(state.retryTimer);
  state.retryTimer = null;
  showConnection("connecting…", false);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws`, "wschat.v1");
  state.socket = socket;
  state.welcomed = false;
  socket.addEventListener("open", () => hello());
  socket.addEventListener("message", (event) => {
    if (socket !== state.socket) return;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      note("the server sent a frame this page cannot read", "error");
      return;
    }
    receive(frame);
  });
  socket.addEventListener("close", (event) => {
    if (socket === state.socket) closed(event.code, event.reason);
  });
}

// A page that is closed or left says goodbye at once (the others see its user quit), instead of
// leaving the server to notice a silent socket at its keepalive timeout. A page kept in the
// back/forward cache reconnects when it is shown again, as after any close.
window.addEventListener("pagehide", () => {
  if (state.socket) state.socket.close(1000, "page closed");
});

function send(frame) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function closed(code, reason) {
  state.socket = null;
  state.welcomed = false;
  clearInterval(state.pingTimer);
  state.pingTimer = null;
  if (state.stopped) {
    showConnection(state.stopped, true);
    return;
  }
  if (code === 4001) {
    state.stopped = "not reconnecting: authentication failed";
    showConnection(state.stopped, true);
    note(state.stopped, "error");
    return;
  }
  if (state.connectedAt && Date.now() - state.connectedAt >= STABLE_AFTER_MS) state.attempt = 0;
  state.connectedAt = 0;
  // Full jitter: anywhere between 0 and the ceiling; a restarting server (1001) gets
  // everyone back within a second.
  const ceiling = code === 1001 ? 1000 : Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
  state.attempt += 1;
  const delay = Math.random() * ceiling;
  state.retryAt = Date.now() + delay;
  state.retryTimer = setTimeout(connect, delay);
  const why = reason || (code === 1006 ? "connection lost" : `closed (${code})`);
  showReconnecting(why);
}

function showReconnecting(why) {
  if (!state.retryTimer) return;
  const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
  showConnection(`reconnecting in ${seconds} s (attempt ${state.attempt}) — ${why}`, true);
  setTimeout(() => showReconnecting(why), 1000);
}

/** A protocol ping every PING_INTERVAL_MS; no pong within PING_TIMEOUT_MS means the
 * connection is dead, even when the browser has not noticed (a half-open TCP connection). */
function keepalive() {
  clearInterval(state.pingTimer);
  state.pingSentAt.clear();
  let lastPing = 0;
  const tick = () => {
    const now = Date.now();
    for (const sentAt of state.pingSentAt.values()) {
      if (now - sentAt > PING_TIMEOUT_MS) {
        const socket = state.socket;
        closed(1006, "no answer to ping");
        if (socket) socket.close();
        return;
      }
    }
    if (now - lastPing < PING_INTERVAL_MS) return;
    lastPing = now;
    state.pingSequence += 1;
    state.pingSentAt.set(state.pingSequence, now);
    send({ type: "ping", t: state.pingSequence });
  };
  // The first ping goes at once, so that the latency shows from the start.
  tick();
  state.pingTimer = setInterval(tick, 1000);
}

function showConnected() {
  showConnection(state.latency === null ? "connected" : `connected · ${state.latency} ms`, false);
}

// MARK: Frames from the server

function receive(frame) {
  switch (frame.type) {
    case "welcome": return welcomed(frame);
    case "joined": return joined(frame);
    case "message": return roomMessage(frame);
    case "dm": return directMessage(frame);
    case "presence": return presence(frame);
    case "nick": return nickChanged(frame);
    case "topic": return topicChanged(frame);
    case "parted": return parted(frame);
    case "members": return members(frame);
    case "rooms":
      return note(frame.rooms.length ? "rooms: " + frame.rooms.map((r) => `#${r.room} (${r.members})`).join(", ") : "no rooms have members");
    case "pong": return pong(frame);
    case "error": return serverError(frame);
    case "history": return olderMessages(frame);
    case "dm_history": return olderDirectMessages(frame);
    case "found": return found(frame);
    case "away": return away(frame);
    case "whois": return whois(frame);
    default: return undefined; // a newer server's frame: nothing to show
  }
}

function welcomed(frame) {
  state.welcomed = true;
  state.connectedAt = Date.now();
  state.nick = frame.nick;
  localStorage.setItem(NICK_KEY, frame.nick);
  document.body.dataset.server = frame.server;
  showConnected();
  renderHeader();
  keepalive();
  for (const [, item] of state.buffers) {
    if (item.kind !== "room") continue;
    const join = { type: "join", room: item.name };
    if (item.lastId !== null) {
      join.since = item.lastId;
      join.epoch = item.epoch;
    }
    send(join);
  }
  for (const pending of state.outbox) send(pending.frame);
  // A page asked for on the lost connection never comes: scrolling up asks again.
  for (const [key, item] of state.buffers) {
    if (item.older === "loading") {
      removeLoadingLine(key);
      item.older = "more";
    }
  }
  if (state.away) send({ type: "away", reason: state.away });
}

function joined(frame) {
  const key = roomKey(frame.room);
  const room = buffer(key, "room", frame.room);
  const resumedFrom = room.lastId;
  room.name = frame.room;
  room.topic = frame.topic;
  room.members = frame.members;
  room.away = new Set((frame.away || []).map((n) => n.toLowerCase()));
  const reset = frame.reset === true;
  let history = frame.history;
  if (resumedFrom !== null && !reset) history = history.filter((m) => m.id > resumedFrom);
  if (reset) addLine(key, { kind: "notice", text: `the server lost the earlier history of #${frame.room}`, time: Date.now() });
  const paging = resumedFrom !== null && !reset && frame.more;
  if (resumedFrom === null && !frame.more) room.older = "beginning";
  room.epoch = frame.epoch;
  if (resumedFrom === null || reset) room.lastId = 0;
  for (const message of history) showRoomMessage(key, message, false);
  if (paging) send({ type: "join", room: frame.room, since: room.lastId, epoch: room.epoch });
  if (!state.current || state.pendingSwitch === key) {
    state.pendingSwitch = null;
    switchTo(key);
  } else {
    renderBuffers();
    if (key === state.current) renderHeader();
  }
}

function roomMessage(message) {
  const key = roomKey(message.room);
  if (!state.buffers.has(key)) return;
  showRoomMessage(key, message, true);
}

function showRoomMessage(key, message, live) {
  const room = state.buffers.get(key);
  if (room.lastId !== null && message.id <= room.lastId && live) return; // seen before
  room.lastId = Math.max(room.lastId || 0, message.id);
  if (settle(message.cid, message)) return;
  addLine(key, messageLine(message));
}

function messageLine(message) {
  const own = message.from.toLowerCase() === state.nick.toLowerCase();
  return {
    kind: "message", id: message.id, from: message.from, text: message.text, action: message.action === true,
    time: message.ts, own, mention: !own && mentions(message.text, state.nick),
  };
}

// MARK: Older messages, search, away

const LOADING_TEXT = "loading older messages…";

/** Scrolled to the top of a room or a DM: asks for the page before its oldest message. */
function reachedTop() {
  const shown = currentBuffer();
  if (!shown) return;
  const oldest = shown.lines.find((line) => line.id !== undefined);
  askOlder(state.current, oldest ? oldest.id : undefined);
}

/** Asks for the page of the room or conversation in buffer `key` before `before` (the newest when undefined). */
function askOlder(key, before) {
  const item = state.buffers.get(key);
  if (!item || item.older !== "more" || !state.welcomed) return;
  const request = item.kind === "room" ? { type: "history", room: item.name } : { type: "dm_history", with: item.name };
  if (before !== undefined) request.before = before;
  if (!send(request)) return;
  item.older = "loading";
  prependLines(key, [{ kind: "event", text: LOADING_TEXT, time: Date.now() }]);
}

/** A page of a room's older messages (`history`). */
function olderMessages(frame) {
  putAbove(roomKey(frame.room), frame, messageLine, (room) => `── beginning of #${room} ──`);
}

/** A page of the user's earlier direct messages with someone (`dm_history`). */
function olderDirectMessages(frame) {
  putAbove(nickKey(frame.with), frame, directLine, (peer) => `── beginning of your direct messages with ${peer} ──`);
}

/**
 * A page goes above what the buffer has, where the loading line was, without the messages it
 * already holds (a page may cross a reconnect); the view stays where it was.
 */
function putAbove(key, page, toLine, beginning) {
  const item = state.buffers.get(key);
  if (!item) return;
  removeLoadingLine(key);
  const oldest = item.lines.find((line) => line.id !== undefined);
  const lines = page.messages.filter((m) => !oldest || m.id < oldest.id).map(toLine);
  item.older = page.more ? "more" : "beginning";
  if (!page.more) lines.unshift({ kind: "event", text: beginning(item.name), time: Date.now() });
  prependLines(key, lines);
}

function removeLoadingLine(key) {
  const room = state.buffers.get(key);
  if (room && room.lines.length && room.lines[0].text === LOADING_TEXT && room.lines[0].kind === "event") {
    room.lines.shift();
    if (key === state.current) renderMessagesKeepingView();
  }
}

function prependLines(key, lines) {
  const room = state.buffers.get(key);
  room.lines.unshift(...lines);
  if (key === state.current) renderMessagesKeepingView();
}

/** Redraws the buffer on screen with the lines the user was reading where they were. */
function renderMessagesKeepingView() {
  const list = $("messages");
  const fromBottom = list.scrollHeight - list.scrollTop;
  renderMessages();
  list.scrollTop = list.scrollHeight - fromBottom;
}

function found(frame) {
  const scope = frame.room ? `#${frame.room}` : "every room";
  const count = frame.matches.length ? `${frame.matches.length}${frame.more ? "+" : ""} found, newest first` : "nothing found";
  note(`search "${frame.text}" in ${scope}: ${count}`);
  const key = state.current || [...state.buffers.keys()][0];
  for (const match of frame.matches) {
    addLine(key, { kind: "match", from: `#${match.room} ${match.from}`, text: match.text, time: match.ts });
  }
  if (frame.more) note("more messages match: search for a longer text to narrow it");
}

function members(frame) {
  const room = state.buffers.get(roomKey(frame.room));
  const away = new Set((frame.away || []).map((n) => n.toLowerCase()));
  if (room) {
    room.members = frame.members;
    room.away = away;
  }
  const listed = frame.members.map((n) => (away.has(n.toLowerCase()) ? `${n} (away)` : n)).join(" ");
  note(`#${frame.room}: ${listed || "nobody"}`);
}

/** Someone is away or back: said in the rooms shared with them; the user's own where they are. */
function away(frame) {
  const nick = frame.nick.toLowerCase();
  if (nick === state.nick.toLowerCase()) {
    if (state.shownAway !== (frame.reason || null)) {
      note(frame.reason ? `you are away: ${frame.reason} (/back when you are back)` : "you are back");
    }
    state.shownAway = frame.reason || null;
    return;
  }
  const text = frame.reason ? `${frame.nick} is away: ${frame.reason}` : `${frame.nick} is back`;
  for (const [key, item] of state.buffers) {
    if (item.kind !== "room" || !item.members.some((m) => m.toLowerCase() === nick)) continue;
    if (frame.reason) item.away.add(nick);
    else item.away.delete(nick);
    addLine(key, { kind: "event", text, time: Date.now() });
  }
}

function whois(frame) {
  const since = new Date(frame.since).toLocaleString();
  const idle = frame.idle < 60 ? `${frame.idle} s` : frame.idle < 3600 ? `${Math.floor(frame.idle / 60)} min` : `${Math.floor(frame.idle / 3600)} h`;
  note(`${frame.nick}: ${frame.rooms.length ? "in " + frame.rooms.map((r) => "#" + r).join(" ") : "in no room"}`);
  note(`${frame.nick}: connected since ${since}, idle ${idle}`);
  if (frame.away) note(`${frame.nick}: away: ${frame.away}`);
}

function directLine(message) {
  const own = message.from.toLowerCase() === state.nick.toLowerCase();
  return { kind: "message", id: message.id, from: message.from, text: message.text, time: message.ts, own };
}

function directMessage(message) {
  const own = message.from.toLowerCase() === state.nick.toLowerCase();
  const peer = own ? message.to : message.from;
  const key = nickKey(peer);
  const opened = !state.buffers.has(key);
  buffer(key, "dm", peer);
  const wasPending = state.outbox.some((p) => p.frame.cid === message.cid);
  if (!wasPending && state.seenDirect.has(message.cid)) return;
  state.seenDirect.add(message.cid);
  if (!settle(message.cid, message)) addLine(key, directLine(message));
  // What was said before this message, for a conversation that opens with it.
  if (opened) askOlder(key, message.id);
}

/** The server echoed a message we sent: its pending line becomes the real one. */
function settle(cid, message) {
  const index = state.outbox.findIndex((p) => p.frame.cid === cid);
  if (index < 0) return false;
  const [pending] = state.outbox.splice(index, 1);
  Object.assign(pending.line, { kind: "message", id: message.id, time: message.ts, own: true });
  updateLine(pending.line);
  return true;
}

function presence(frame) {
  const key = roomKey(frame.room);
  const room = state.buffers.get(key);
  if (!room) return;
  if (frame.event === "join") {
    if (!room.members.includes(frame.nick)) room.members.push(frame.nick);
    addLine(key, { kind: "event", text: `${frame.nick} joined`, time: Date.now() });
  } else {
    room.members = room.members.filter((m) => m.toLowerCase() !== frame.nick.toLowerCase());
    const verb = frame.event === "part" ? "left" : "quit";
    addLine(key, { kind: "event", text: `${frame.nick} ${verb}${frame.reason ? ` (${frame.reason})` : ""}`, time: Date.now() });
  }
}

function nickChanged(frame) {
  if (frame.old.toLowerCase() === state.nick.toLowerCase()) {
    state.nick = frame.new;
    localStorage.setItem(NICK_KEY, frame.new);
  }
  for (const [key, item] of state.buffers) {
    const index = item.members.findIndex((m) => m.toLowerCase() === frame.old.toLowerCase());
    if (index >= 0) {
      item.members[index] = frame.new;
      addLine(key, { kind: "event", text: `${frame.old} is now ${frame.new}`, time: Date.now() });
    }
  }
}

function topicChanged(frame) {
  const key = roomKey(frame.room);
  const room = state.buffers.get(key);
  if (!room) return;
  room.topic = frame.topic;
  addLine(key, { kind: "event", text: frame.topic ? `${frame.by} set the topic: ${frame.topic}` : `${frame.by} cleared the topic`, time: Date.now() });
  if (key === state.current) renderHeader();
}

function parted(frame) {
  const key = roomKey(frame.room);
  state.buffers.delete(key);
  if (state.current === key) state.current = [...state.buffers.keys()][0] || null;
  renderBuffers();
  renderMessages();
  renderHeader();
}

function pong(frame) {
  const sentAt = state.pingSentAt.get(frame.t);
  if (sentAt === undefined) return;
  state.pingSentAt.delete(frame.t);
  state.latency = Date.now() - sentAt;
  if (state.welcomed) showConnected();
}

function serverError(error) {
  if (error.ref === "history" || error.ref === "dm_history") {
    const conversations = error.ref === "dm_history";
    // A server without the request, or that keeps no DMs for this browser, is not asked again.
    const unsupported = error.code === "unknown_type" || (conversations && error.code === "bad_request");
    for (const [key, item] of state.buffers) {
      if (item.older !== "loading" || (item.kind === "dm") !== conversations) continue;
      removeLoadingLine(key);
      item.older = unsupported ? "unsupported" : "more";
    }
    if (unsupported) {
      return note(`this server cannot send ${conversations ? "earlier direct messages" : "older messages"} (${error.message})`);
    }
  }
  if (!state.welcomed && error.ref === "hello") {
    if (error.code === "nick_taken" && state.nick.length < 32) {
      state.nick += "_";
      hello();
      return;
    }
    if (error.code === "bad_nick") {
      state.stopped = "choose another nick";
      localStorage.removeItem(NICK_KEY);
      askNick(error.message);
      state.socket && state.socket.close();
      return;
    }
  }
  const index = state.outbox.findIndex((p) => p.frame.cid === error.ref);
  if (index >= 0) {
    if (error.code === "rate_limited") {
      const pending = state.outbox[index];
      setTimeout(() => {
        if (state.welcomed && state.outbox.includes(pending)) send(pending.frame);
      }, 1000);
      return;
    }
    const [pending] = state.outbox.splice(index, 1);
    Object.assign(pending.line, { kind: "failed", reason: `${error.code}: ${error.message}` });
    updateLine(pending.line);
    return;
  }
  note(`${error.code}: ${error.message}`, "error");
}

// MARK: What the user types

const COMMANDS = {
  join: "/join ROOM — join a room",
  part: "/part [ROOM] — leave a room (the current one), or close a DM",
  nick: "/nick NICK — change your nick",
  me: "/me ACTION — say an action",
  msg: "/msg NICK TEXT — send a direct message",
  topic: "/topic [TEXT | -delete] — show, set or clear the topic",
  who: "/who — list the room's members",
  list: "/list — list the rooms",
  search: "/search [-all] TEXT — find stored messages containing TEXT, in this room or every room",
  away: "/away [REASON] — mark yourself away; /back ends it",
  back: "/back — you are back",
  whois: "/whois NICK — their rooms, since when connected, how long quiet, whether away",
  help: "/help — this list (scroll up in a room to read older messages)",
};

function submit(text) {
  const shown = currentBuffer();
  if (!text.startsWith("/") || text.startsWith("//")) {
    const body = text.startsWith("//") ? text.slice(1) : text;
    if (!shown) return note("not in a room yet: you join one once connected", "error"), false;
    return say(shown, body, false);
  }
  const [, name = "", rest = ""] = text.match(/^\/(\S*)\s*(.*)$/s) || [];
  const words = rest.split(/\s+/).filter(Boolean);
  switch (name.toLowerCase()) {
    case "join":
    case "j":
      if (words.length !== 1) return usage("join");
      state.pendingSwitch = roomKey(words[0]);
      if (state.buffers.has(state.pendingSwitch)) switchTo(state.pendingSwitch);
      // Offline, the room waits in the list and is joined after the next welcome.
      if (!send({ type: "join", room: words[0].replace(/^#/, "") })) buffer(roomKey(words[0]), "room", words[0].replace(/^#/, ""));
      return true;
    case "part":
      if (!words.length && shown && shown.kind === "dm") {
        state.buffers.delete(state.current);
        state.current = [...state.buffers.keys()][0] || null;
        renderBuffers();
        renderMessages();
        renderHeader();
        return true;
      }
      if (!words.length && !(shown && shown.kind === "room")) return usage("part");
      send({ type: "part", room: words[0] ? words[0].replace(/^#/, "") : shown.name });
      return true;
    case "nick":
      if (words.length !== 1) return usage("nick");
      send({ type: "nick", nick: words[0] });
      return true;
    case "me":
      if (!rest || !shown || shown.kind !== "room") return usage("me");
      return say(shown, rest, true);
    case "msg":
    case "query": {
      if (words.length < 2) return usage("msg");
      const body = rest.slice(rest.indexOf(words[0]) + words[0].length).replace(/^\s/, "");
      const key = nickKey(words[0]);
      const opened = !state.buffers.has(key);
      buffer(key, "dm", words[0]);
      switchTo(key);
      // The conversation so far, above the message about to be sent.
      if (opened) askOlder(key, undefined);
      return say(state.buffers.get(key), body, false);
    }
    case "topic":
      if (!shown || shown.kind !== "room") return usage("topic");
      if (!rest) return note(shown.topic ? `topic of #${shown.name}: ${shown.topic}` : `#${shown.name} has no topic`), true;
      send({ type: "topic", room: shown.name, topic: rest === "-delete" ? "" : rest });
      return true;
    case "who":
      if (!shown || shown.kind !== "room") return usage("who");
      send({ type: "who", room: shown.name });
      return true;
    case "list":
      send({ type: "list" });
      return true;
    case "search": {
      const everyRoom = words[0] === "-all";
      const query = everyRoom ? rest.replace(/^-all\s*/, "") : rest;
      if (!query.trim()) return usage("search");
      const frame = { type: "search", text: query };
      if (!everyRoom && shown && shown.kind === "room") frame.room = shown.name;
      send(frame);
      return true;
    }
    case "away":
      state.away = rest.trim() || "away";
      send({ type: "away", reason: state.away });
      return true;
    case "back":
      state.away = null;
      send({ type: "away" });
      return true;
    case "whois":
      if (words.length !== 1) return usage("whois");
      send({ type: "whois", nick: words[0] });
      return true;
    case "help":
      for (const line of Object.values(COMMANDS)) note(line);
      return true;
    default:
      note(`unknown command /${name} — /help lists the commands`, "error");
      return false;
  }
}

function usage(name) {
  note("usage: " + COMMANDS[name], "error");
  return false;
}

/** A message goes in the outbox, shown as pending, and is sent when connected (again after
 * every reconnect, with the same cid, until the server echoes it). */
function say(target, text, action) {
  const cid = newCID();
  const frame = target.kind === "room"
    ? { type: "say", room: target.name, text, cid, ...(action ? { action: true } : {}) }
    : { type: "dm", to: target.name, text, cid };
  const line = { kind: "pending", from: state.nick, text, action, time: Date.now(), own: true };
  state.outbox.push({ frame, line });
  addLine(target.kind === "room" ? roomKey(target.name) : nickKey(target.name), line);
  if (state.welcomed) send(frame);
  return true;
}

// MARK: Start

function askNick(problem) {
  const dialog = $("nick-dialog");
  $("nick-error").textContent = problem || "";
  $("nick-input").value = state.nick;
  if (!dialog.open) dialog.showModal();
  $("nick-input").focus();
}

function start() {
  document.body.dataset.server = document.title;
  $("terminal-command").textContent = `wschat ${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  const wanted = decodeURIComponent(location.hash.slice(1)).split(",").map((r) => r.trim().replace(/^#/, "")).filter(Boolean);
  for (const room of wanted.length ? wanted : ["general"]) buffer(roomKey(room), "room", room);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("input");
    const text = input.value;
    if (!text.trim()) return;
    // A line that could not be used stays in the box, to fix.
    if (submit(text)) input.value = "";
  });
  $("nick-form").addEventListener("submit", () => {
    state.nick = $("nick-input").value.trim();
    state.stopped = null;
    localStorage.setItem(NICK_KEY, state.nick);
    if (!state.socket) connect();
  });
  $("nick-dialog").addEventListener("cancel", (event) => event.preventDefault());
  $("messages").addEventListener("scroll", () => {
    if ($("messages").scrollTop < 40) reachedTop();
  });
  // A buffer too short to scroll: the wheel up at the top asks all the same.
  $("messages").addEventListener("wheel", (event) => {
    if (event.deltaY < 0 && $("messages").scrollTop === 0) reachedTop();
  }, { passive: true });
  renderBuffers();
  if (state.nick) connect();
  else askNick();
}

document.addEventListener("DOMContentLoaded", start);
