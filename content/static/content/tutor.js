// The AI tutor's answers stream into the page: the form posts to the stream address and reads
// server-sent events (start, piece, done, error). Without this script the form posts normally.
(function () {
  "use strict";
  var form = document.getElementById("ask-form");
  if (!form || !window.fetch || !window.TextDecoder) return;
  var chat = document.getElementById("chat");
  var errorBox = document.getElementById("chat-error");
  var textarea = document.getElementById("ask");
  var button = document.getElementById("ask-button");

  function bubble(role, label, text) {
    var item = document.createElement("li");
    item.className = "bubble " + role;
    item.dataset.role = role;
    var strong = document.createElement("strong");
    strong.textContent = label;
    var body = document.createElement("div");
    body.className = "bubble-text";
    body.textContent = text;
    item.appendChild(strong);
    item.appendChild(body);
    chat.appendChild(item);
    return body;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function handle(event, data, answer, state) {
    if (event === "start") state.url = data.url;
    else if (event === "piece") answer.textContent += data.text;
    else if (event === "error") showError(data.message);
    else if (event === "done") window.location.assign(data.url);  // the stored answer, with its sources
  }

  form.addEventListener("submit", function (submit) {
    var question = textarea.value.trim();
    if (!question) return;
    submit.preventDefault();
    errorBox.hidden = true;
    button.disabled = true;
    var asked = bubble("user", "Learner", question);
    var answer = null;
    var state = {};
    fetch(form.dataset.streamUrl, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) {
            asked.parentNode.remove();
            showError(body.message || "The tutor could not take your question.");
          });
        }
        textarea.value = "";
        answer = bubble("assistant", "Tutor", "");
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function read() {
          return reader.read().then(function (chunk) {
            if (chunk.done) return;
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split("\n\n");
            buffer = parts.pop();
            parts.forEach(function (part) {
              var name = "message", data = "";
              part.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) name = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              if (data) handle(name, JSON.parse(data), answer, state);
            });
            return read();
          });
        }
        return read();
      })
      .catch(function () { showError("The connection was lost. Your question may have been kept; reload the page."); })
      .then(function () { button.disabled = false; });
  });
})();
