// Small helpers for the console: confirm risky buttons, keep the conversation scrolled to the
// newest message, and refresh the dashboard while nobody is typing.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});
document.addEventListener("DOMContentLoaded", () => {
  const messages = document.querySelector("ol.messages");
  if (messages) messages.scrollTop = messages.scrollHeight;
  // waiting times in the 转人工 queue keep counting between refreshes, from the server's clock
  // at rendering (data-now) plus the time this page has been open; the browser's clock decides nothing
  const queue = document.querySelector("[data-now]");
  const rendered = queue ? Date.parse(queue.dataset.now) : 0;
  const opened = performance.now();
  const waited = (since) => {
    const minutes = Math.floor((rendered + performance.now() - opened - Date.parse(since)) / 60000);
    if (minutes < 1) return "刚刚";
    if (minutes < 60) return `${minutes} 分钟`;
    const hours = Math.floor(minutes / 60), rest = minutes % 60;
    if (hours < 24) return rest ? `${hours} 小时 ${rest} 分钟` : `${hours} 小时`;
    return `${Math.floor(hours / 24)} 天 ${hours % 24} 小时`;
  };
  const tick = () => document.querySelectorAll("td.waited[data-since]").forEach((cell) => {
    if (cell.textContent.trim() !== "—") cell.textContent = waited(cell.dataset.since);
  });
  if (queue && document.querySelector("td.waited[data-since]")) window.setInterval(tick, 30000);
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) {
    window.setInterval(() => {
      const active = document.activeElement;
      const typing = active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
      if (!typing && document.visibilityState === "visible") window.location.reload();
    }, seconds * 1000);
  }
});
