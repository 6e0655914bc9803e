// Lesson progress: how far the reader scrolled, the seconds the page was visible, and "Mark as complete",
// sent to PUT /api/v1/content/progress/<lesson>. The server keeps the maximum, so sending again is harmless.
(function () {
  "use strict";
  var box = document.getElementById("progress");
  var body = document.getElementById("lesson-body");
  if (!box || !body) return;

  var url = box.dataset.url;
  var sentPercent = parseInt(box.dataset.percent || "0", 10);
  var completed = box.dataset.completed === "1";
  var seenPercent = sentPercent;
  var visibleSince = document.visibilityState === "visible" ? Date.now() : null;
  var pendingSeconds = 0;

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function takeSeconds() {
    if (visibleSince !== null) {
      pendingSeconds += (Date.now() - visibleSince) / 1000;
      visibleSince = document.visibilityState === "visible" ? Date.now() : null;
    }
    var whole = Math.min(3600, Math.floor(pendingSeconds));
    pendingSeconds -= whole;
    return whole;
  }

  function show(state) {
    var meter = document.getElementById("progress-meter");
    meter.value = state.percent;
    document.getElementById("progress-percent").textContent = state.percent + "%";
    if (state.completed) {
      completed = true;
      var button = document.getElementById("mark-complete");
      if (button) button.remove();
      document.getElementById("progress-done").hidden = false;
    }
  }

  function send(payload, keepalive) {
    payload.seconds = takeSeconds();
    return fetch(url, {
      method: "PUT",
      credentials: "same-origin",
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (state) {
      document.getElementById("progress-error").hidden = true;
      sentPercent = Math.max(sentPercent, state.percent);
      show(state);
      return state;
    }).catch(function () {
      document.getElementById("progress-error").hidden = false;
    });
  }

  function scrolledPercent() {
    var rect = body.getBoundingClientRect();
    var seen = window.innerHeight - rect.top;
    if (rect.height <= 0) return 100;
    return Math.max(0, Math.min(100, Math.round((100 * seen) / rect.height)));
  }

  var timer = null;
  function onScroll() {
    seenPercent = Math.max(seenPercent, scrolledPercent());
    if (timer || seenPercent < sentPercent + 10) return;
    timer = setTimeout(function () {
      timer = null;
      send({ percent: seenPercent, position: seenPercent });
    }, 800);
  }

  document.addEventListener("scroll", onScroll, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      send({ percent: seenPercent, position: seenPercent }, true);
    } else {
      visibleSince = Date.now();
    }
  });
  var button = document.getElementById("mark-complete");
  if (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      send({ percent: 100, position: seenPercent, completed: true }).then(function () { button.disabled = false; });
    });
  }
  onScroll();
})();
