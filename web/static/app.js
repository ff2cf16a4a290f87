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

// Times in the browser's time zone. The server writes every time in UTC
// (<time datetime="...Z" title="... UTC" data-local="clock|stamp">), which
// is what a page shows without JavaScript; here the text becomes the same
// time in the browser's zone, in the same YYYY-MM-DD HH:MM:SS shape with the
// zone's short name. The title keeps UTC for hover. It runs on load and again
// whenever HTMX puts new content in the page (a command's reply, a summary
// refreshed by a server-sent event).
(function () {
  "use strict";

  var formats = {};

  function formatter(withDate) {
    var key = withDate ? "stamp" : "clock";
    if (!formats[key]) {
      var opts = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short" };
      if (withDate) {
        opts.year = "numeric";
        opts.month = "2-digit";
        opts.day = "2-digit";
      }
      formats[key] = new Intl.DateTimeFormat(undefined, opts);
    }
    return formats[key];
  }

  function local(date, withDate) {
    var p = {};
    formatter(withDate).formatToParts(date).forEach(function (part) { p[part.type] = part.value; });
    var clock = p.hour + ":" + p.minute + ":" + p.second + " " + p.timeZoneName;
    return withDate ? p.year + "-" + p.month + "-" + p.day + " " + clock : clock;
  }

  function localizeTimes() {
    document.querySelectorAll("time[data-local][datetime]").forEach(function (el) {
      var date = new Date(el.getAttribute("datetime"));
      if (isNaN(date.getTime())) return;
      var text = local(date, el.dataset.local === "stamp");
      if (el.textContent !== text) el.textContent = text;
    });
    var note = document.getElementById("tz-note");
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (note && zone && !/^(Etc\/)?UTC$/.test(zone)) note.textContent = "times in " + zone + " (UTC on hover)";
  }

  document.addEventListener("DOMContentLoaded", localizeTimes);
  ["htmx:load", "htmx:afterSwap", "htmx:oobAfterSwap"].forEach(function (name) {
    document.addEventListener(name, localizeTimes);
  });
})();

// A command form repeats its command's outcome under its button. Only the
// latest one is news: the other forms' older lines go. "Latest" is the
// highest transaction number, not the order HTMX settles replies in (a
// quick second command can be settled before the first).
(function () {
  "use strict";

  document.addEventListener("htmx:load", function () {
    var lines = document.querySelectorAll(".form-outcome[data-tx]");
    var latest = 0;
    lines.forEach(function (el) { latest = Math.max(latest, Number(el.dataset.tx)); });
    lines.forEach(function (el) {
      if (Number(el.dataset.tx) < latest) el.remove();
    });
  });
})();
