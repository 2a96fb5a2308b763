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
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) {
    window.setInterval(() => {
      const active = document.activeElement;
      const typing = active && ["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName);
      if (!typing && document.visibilityState === "visible") window.location.reload();
    }, seconds * 1000);
  }
});
