// Small helpers for the console: confirm risky buttons, keep the conversation scrolled to the
// newest message, live updates by server-sent events (new messages, the 转人工 queue) with an
// optional sound and desktop notification, canned replies, and a slow reload of the dashboard.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// Sound (a short tone, no file) and desktop notification, each switched on by the member of staff.
const SOUND_KEY = "jiahu.console.sound";
let audio = null;
const alertStaff = (title) => {
  if (window.localStorage.getItem(SOUND_KEY) === "on") {
    try {
      audio = audio || new AudioContext();
      const tone = audio.createOscillator(), gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.4);
    } catch (error) { /* no sound on this device */ }
  }
  if ("Notification" in window && Notification.permission === "granted" && document.visibilityState !== "visible") {
    new Notification(title, { tag: "jiahu-console" });
  }
};

const setUpAlerts = () => {
  const sound = document.getElementById("alert-sound");
  if (sound) {
    sound.checked = window.localStorage.getItem(SOUND_KEY) === "on";
    sound.addEventListener("change", () => window.localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"));
  }
  const desktop = document.getElementById("alert-desktop");
  if (desktop) {
    const show = () => {
      const state = "Notification" in window ? Notification.permission : "unsupported";
      desktop.textContent = state === "granted" ? "桌面通知已开启" : (state === "denied" ? "桌面通知已被浏览器阻止" : "开启桌面通知");
      desktop.disabled = state !== "default";
    };
    show();
    desktop.addEventListener("click", () => Notification.requestPermission().then(show));
  }
};

// Waiting times in the 转人工 queue keep counting between updates, from the server's clock at
// rendering (data-now) plus the time since; the browser's clock decides nothing.
const shownAt = new WeakMap();
const waited = (table, since) => {
  const minutes = Math.floor((Date.parse(table.dataset.now) + performance.now() - shownAt.get(table) - Date.parse(since)) / 60000);
  if (minutes < 1) return "刚刚";
  if (minutes < 60) return `${minutes} 分钟`;
  const hours = Math.floor(minutes / 60), rest = minutes % 60;
  if (hours < 24) return rest ? `${hours} 小时 ${rest} 分钟` : `${hours} 小时`;
  return `${Math.floor(hours / 24)} 天 ${hours % 24} 小时`;
};
const tick = () => document.querySelectorAll("table[data-now]").forEach((table) => {
  if (!shownAt.has(table)) shownAt.set(table, performance.now());
  table.querySelectorAll("td.waited[data-since]").forEach((cell) => {
    if (cell.textContent.trim() !== "—") cell.textContent = waited(table, cell.dataset.since);
  });
});

const typing = () => {
  const active = document.activeElement;
  return active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName) && active.value !== "";
};

const followConversation = (list) => {
  const source = new EventSource(list.dataset.live);
  source.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    list.querySelectorAll("li.empty").forEach((item) => item.remove());
    list.insertAdjacentHTML("beforeend", message.html);
    list.scrollTop = list.scrollHeight;
    if (message.from_family) alertStaff("家属发来新消息");
  });
  source.addEventListener("holder", () => { if (!typing()) window.location.reload(); });
};

const followQueue = (section) => {
  let known = null;
  const source = new EventSource(section.dataset.live);
  source.addEventListener("queue", (event) => {
    const queue = JSON.parse(event.data);
    section.innerHTML = queue.html;
    const tile = document.querySelector("a[href='#queue'] b");
    if (tile) {
      tile.textContent = String(queue.waiting.length);
      tile.closest("li").classList.toggle("hot", queue.waiting.length > 0);
    }
    tick();
    if (known !== null && queue.waiting.some((id) => !known.includes(id))) alertStaff("有家属等待人工服务");
    known = queue.waiting;
  });
};

// 常用回复: the chosen text (variables already filled in by the server) goes into the message box.
const setUpCanned = () => {
  const select = document.getElementById("canned");
  const text = document.getElementById("text");
  if (!select || !text) return;
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    if (option && option.dataset.text) {
      text.value = option.dataset.text;
      text.focus();
    }
  });
};

document.addEventListener("DOMContentLoaded", () => {
  const messages = document.querySelector("ol.messages");
  if (messages) messages.scrollTop = messages.scrollHeight;
  setUpAlerts();
  setUpCanned();
  tick();
  window.setInterval(tick, 30000);
  if (window.EventSource) {
    document.querySelectorAll("ol.messages[data-live]").forEach(followConversation);
    document.querySelectorAll("section[data-live]").forEach(followQueue);
  }
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) {
    window.setInterval(() => {
      if (!typing() && document.visibilityState === "visible") window.location.reload();
    }, seconds * 1000);
  }
});
