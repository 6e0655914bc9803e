// Clicks on elements marked data-track="<name>" (optionally data-track-item-type / data-track-item-id)
// become `click` events: batched in the page, sent with navigator.sendBeacon to /analytics/clicks
// (a form with the page's CSRF token) when the page is hidden or left, when 20 wait, or every 10 s.
// Who clicked is the server's business (session, visitor cookie): the page sends only what was clicked.
(function () {
  "use strict";
  var URL = "/analytics/clicks";
  var MAX = 20;
  var queue = [];

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function send() {
    while (queue.length) {
      var form = new FormData();
      form.append("csrfmiddlewaretoken", csrfToken());
      form.append("events", JSON.stringify(queue.splice(0, MAX)));
      if (!(navigator.sendBeacon && navigator.sendBeacon(URL, form))) {
        // No beacon (or refused: too big): a keepalive fetch outlives the page too. Losing a click is fine.
        fetch(URL, { method: "POST", body: form, credentials: "same-origin", keepalive: true }).catch(function () {});
      }
    }
  }

  document.addEventListener("click", function (event) {
    var element = event.target instanceof Element ? event.target.closest("[data-track]") : null;
    if (!element) {
      return;
    }
    queue.push({
      target: (element.getAttribute("data-track") || "").slice(0, 64),
      path: location.pathname.slice(0, 500),
      item_type: (element.getAttribute("data-track-item-type") || "").slice(0, 32),
      item_id: (element.getAttribute("data-track-item-id") || "").slice(0, 64),
    });
    if (queue.length >= MAX) {
      send();
    }
  }, true);

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      send();
    }
  });
  window.addEventListener("pagehide", send);
  setInterval(send, 10000);
})();
