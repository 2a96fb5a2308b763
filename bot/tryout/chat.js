// The try-out chat: sends what the family does to /try/api/ and draws the bot's replies.
(() => {
  "use strict";

  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const fileInput = document.getElementById("file");
  const resetButton = document.getElementById("reset");
  const locateButton = document.getElementById("locate");
  const maxBytes = Number(document.body.dataset.maxBytes) || 10 * 1024 * 1024;
  const POLL_MS = 3000;

  // Every word of the page, in both languages, from the message catalogues (the server fills
  // the page's element texts; the script switches them when the conversation's language does).
  const WORDS = JSON.parse(document.getElementById("furniture").textContent);
  let lang = WORDS[document.body.dataset.lang] ? document.body.dataset.lang : "zh";
  const T = (key, values) => Object.entries(values || {}).reduce(
    (text, [name, value]) => text.replace("{" + name + "}", value), WORDS[lang][key] || "");

  function useLanguage(code) {
    if (!code || code === lang || !WORDS[code]) return;
    lang = code;
    document.documentElement.lang = code === "zh" ? "zh-CN" : code;
    document.body.dataset.lang = code;
    document.title = T("title");
    document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = T(node.dataset.t); });
    for (const attribute of ["title", "placeholder", "aria-label"]) {
      const data = "data-t-" + attribute;
      document.querySelectorAll("[" + data + "]").forEach((node) => {
        node.setAttribute(attribute, T(node.getAttribute(data)));
      });
    }
  }

  // --- ids and requests ------------------------------------------------------------------

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  let queue = Promise.resolve();
  let pending = 0;

  // One request at a time, so the replies appear in the order the family acted.
  function enqueue(work) {
    queue = queue.then(work, work);
    return queue;
  }

  async function call(path, body) {
    const options = { method: "POST", credentials: "same-origin", headers: { "X-Try-Language": lang } };
    if (body instanceof FormData) {
      options.body = body;
    } else {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    if (!response.ok) {
      const message = (data && data.error) || (response.status === 413 ? T("too_large") : T("busy"));
      throw Object.assign(new Error(message), { polite: true });
    }
    if (data) useLanguage(data.lang);
    return (data && data.replies) || [];
  }

  // Send once; on a network failure offer to resend the same message (same id: handled once).
  function send(path, body) {
    pending += 1;
    return enqueue(async () => {
      const typing = showTyping();
      try {
        const replies = await call(path, body);
        typing.remove();
        replies.forEach(drawReply);
      } catch (error) {
        typing.remove();
        if (error.polite) {
          notice(error.message, true);
        } else {
          notice(T("network"), true, () => send(path, body));
        }
      } finally {
        pending -= 1;
      }
      scrollDown();
    });
  }

  // What the service sends between turns (the sealed consent, a nurse's or hotline's message).
  function poll() {
    if (pending > 0 || document.visibilityState !== "visible") return;
    pending += 1;
    enqueue(async () => {
      try {
        const replies = await call("/try/api/updates", {});
        replies.forEach(drawReply);
        if (replies.length) scrollDown();
      } catch (error) {
        // quiet: the next poll tries again
      } finally {
        pending -= 1;
      }
    });
  }

  // --- drawing ---------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function row(side) {
    const line = el("div", "row " + side);
    const avatar = el("div", "avatar", T(side === "me" ? "avatar.me" : "avatar.bot"));
    avatar.setAttribute("aria-hidden", "true");
    const bubble = el("div", "bubble");
    const who = el("span", "visually-hidden", T(side === "me" ? "who.me" : "who.bot"));
    bubble.appendChild(who);
    line.append(avatar, bubble);
    log.appendChild(line);
    return bubble;
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function notice(message, isError, retry) {
    const box = el("div", "system" + (isError ? " error" : ""), message);
    if (isError) box.setAttribute("role", "alert");
    if (retry) {
      const again = el("button", "", T("retry"));
      again.type = "button";
      again.addEventListener("click", () => { box.remove(); retry(); });
      box.appendChild(again);
    }
    log.appendChild(box);
    scrollDown();
  }

  function showTyping() {
    const bubble = row("bot typing");
    bubble.appendChild(document.createTextNode(T("typing")));
    scrollDown();
    return bubble.parentElement;
  }

  function image(src, alt) {
    const img = el("img");
    img.src = src;
    img.alt = alt;
    img.addEventListener("load", scrollDown);
    return img;
  }

  function drawReply(reply) {
    const bubble = row("bot");
    if (reply.kind === "choices") {
      bubble.appendChild(document.createTextNode(reply.text || ""));
      bubble.appendChild(choiceButtons(reply));
    } else if (reply.kind === "document") {
      (reply.pages || []).forEach((src, i) => bubble.appendChild(image(src, T("page", { n: i + 1 }))));
      if (reply.text) bubble.appendChild(el("div", "caption", reply.text));
      const file = el("div", "file");
      if (reply.url) {
        const link = el("a", "", reply.readable ? T("open") : T("download", { filename: reply.filename }));
        link.href = reply.url;
        link.target = "_blank";
        link.rel = "noopener";
        file.appendChild(link);
      } else {
        file.appendChild(el("span", "", reply.filename));
      }
      bubble.appendChild(file);
    } else if (reply.kind === "image") {
      bubble.appendChild(image(reply.src, reply.text || reply.filename || T("image")));
      if (reply.text) bubble.appendChild(el("div", "caption", reply.text));
    } else {
      bubble.appendChild(document.createTextNode(reply.text || ""));
    }
  }

  function choiceButtons(reply) {
    const group = el("div", "choices");
    group.setAttribute("role", "group");
    const buttons = reply.choices.map((choice) => {
      const button = el("button", "choice", choice.number + ". " + choice.label);
      button.type = "button";
      button.dataset.number = String(choice.number);
      if (reply.multiple) {
        button.setAttribute("aria-pressed", "false");
        button.addEventListener("click", () => {
          const pressed = button.getAttribute("aria-pressed") === "true";
          button.setAttribute("aria-pressed", pressed ? "false" : "true");
        });
      } else {
        button.addEventListener("click", () => {
          closeChoices();
          button.classList.add("picked");
          mine(choice.label);
          send("/try/api/message", { message_id: newId(), choice: choice.id, context: reply.context });
        });
      }
      group.appendChild(button);
      return button;
    });
    if (reply.multiple) {
      const confirm = el("button", "confirm", T("confirm"));
      confirm.type = "button";
      confirm.addEventListener("click", () => {
        const picked = buttons.filter((b) => b.getAttribute("aria-pressed") === "true");
        if (!picked.length) {
          notice(T("pick_one"), false);
          return;
        }
        const numbers = picked.map((b) => b.dataset.number).join(",");
        closeChoices();
        picked.forEach((b) => b.classList.add("picked"));
        mine(picked.map((b) => b.textContent.replace(/^\d+\.\s*/, "")).join(T("list")));
        send("/try/api/message", { message_id: newId(), text: numbers, context: reply.context });
      });
      group.appendChild(confirm);
    }
    group.appendChild(el("div", "hint", reply.multiple ? T("multiple") : T("single")));
    return group;
  }

  // Buttons of earlier questions stop working once the family has answered.
  function closeChoices() {
    log.querySelectorAll(".choices button").forEach((b) => { b.disabled = true; });
  }

  function mine(text) {
    row("me").appendChild(document.createTextNode(text));
    scrollDown();
  }

  // --- what the family does --------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    closeChoices();
    mine(text);
    send("/try/api/message", { message_id: newId(), text });
    input.focus();
  });

  fileInput.addEventListener("change", () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > maxBytes) {
      notice(T("too_large"), true);
      return;
    }
    closeChoices();
    const bubble = row("me");
    if (file.type.startsWith("image/")) {
      bubble.classList.add("photo");
      bubble.appendChild(image(URL.createObjectURL(file), file.name));
    } else {
      bubble.appendChild(document.createTextNode("📎 " + file.name));
    }
    scrollDown();
    const body = new FormData();
    body.append("message_id", newId());
    body.append("file", file, file.name);
    send("/try/api/upload", body);
  });

  // The browser's position, read by the address step like a location sent in WeChat or Telegram
  // (then only the building and door number are asked).
  locateButton.addEventListener("click", () => {
    if (!navigator.geolocation) {
      notice(T("location.unavailable"), true);
      return;
    }
    navigator.geolocation.getCurrentPosition((position) => {
      closeChoices();
      mine(T("location.sent"));
      send("/try/api/message", { message_id: newId(), location: {
        latitude: position.coords.latitude, longitude: position.coords.longitude } });
    }, () => notice(T("location.unavailable"), true), { timeout: 15000, maximumAge: 60000 });
  });

  resetButton.addEventListener("click", () => {
    if (!window.confirm(T("reset.ask"))) return;
    enqueue(async () => {
      try {
        await fetch("/try/api/reset", { method: "POST", credentials: "same-origin" });
      } catch (error) {
        notice(T("network"), true);
        return;
      }
      log.replaceChildren();
    });
    send("/try/api/start", { message_id: newId(), languages: languages() });
  });

  const languages = () => Array.from(navigator.languages || [navigator.language]);
  send("/try/api/start", { message_id: newId(), languages: languages() });
  setInterval(poll, POLL_MS);
})();
