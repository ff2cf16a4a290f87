// Countdown of pending buys and sells. The server renders each one with the
// milliseconds it has left (data-expires-in, measured on the server's clock,
// so a wrong clock in the browser does not matter). When one runs out, the
// summary is reloaded: the account drops expired trades on its own timer.
(function () {
  "use strict";

  function tick() {
    var now = performance.now();
    var expiredOne = false;
    document.querySelectorAll(".countdown[data-expires-in]").forEach(function (el) {
      if (!el.dataset.deadline) {
        el.dataset.deadline = String(now + Number(el.dataset.expiresIn));
      }
      var left = Math.max(0, Number(el.dataset.deadline) - now);
      var seconds = Math.ceil(left / 1000);
      var text = el.querySelector(".countdown-text");
      var bar = el.querySelector("progress");
      if (bar) bar.value = seconds;
      if (left <= 0) {
        if (!el.classList.contains("expired")) {
          el.classList.add("expired");
          if (text) text.textContent = "expired";
          expiredOne = true;
        }
        return;
      }
      el.classList.toggle("urgent", seconds <= 10);
      if (text) text.textContent = seconds + " s";
    });
    if (expiredOne) {
      // Give the account's timer a moment to drop the trade, then reload.
      setTimeout(function () {
        document.body.dispatchEvent(new CustomEvent("dt-refresh"));
      }, 1500);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 250);
  });
})();
