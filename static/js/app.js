// The app's own browser script. It is loaded with the page's CSP nonce and
// must not rely on eval or inline handlers: htmx runs with allowEval off.
(function () {
  "use strict";

  // Move focus to swapped-in content that asks for it, so keyboard and screen
  // reader users land where the change happened.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail && evt.detail.target;
    if (!target) return;
    var focus = target.querySelector("[data-autofocus]");
    if (focus) focus.focus();
  });
})();
