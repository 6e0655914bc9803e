// Site-wide behaviour, as a file: the Content-Security-Policy refuses inline scripts and
// event-handler attributes, so templates mark elements with data- attributes instead.
(function () {
  "use strict";
  // <select data-autosubmit>: choosing an option submits its form (a <noscript> button does without JS).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.requestSubmit ? target.form.requestSubmit() : target.form.submit();
    }
  });
})();
