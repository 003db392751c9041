// Render math with KaTeX on load and after every htmx swap; $$...$$ is inline math.
(function () {
  function renderMath(root) {
    if (typeof renderMathInElement !== "function") return;
    renderMathInElement(root || document.body, {
      delimiters: [
        { left: "$$", right: "$$", display: false },
        { left: "\\(", right: "\\)", display: false },
      ],
      throwOnError: false,
    });
  }
  document.addEventListener("DOMContentLoaded", function () { renderMath(document.body); });
  document.addEventListener("htmx:afterSettle", function (event) { renderMath(event.target); });
  // After a boosted navigation, move focus to the feedback or the page, for keyboard users.
  document.addEventListener("htmx:afterSettle", function () {
    var target = document.querySelector(".feedback, .error") || document.getElementById("main");
    if (target) {
      target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
  // Accommodation: read a step aloud with the browser's speech synthesis (plain text of the
  // prompt, KaTeX's accessible text included).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.read-aloud");
    if (!button || !("speechSynthesis" in window)) return;
    var source = document.getElementById(button.getAttribute("data-read"));
    if (!source) return;
    var clone = source.cloneNode(true);
    clone.querySelectorAll(".katex-html, annotation").forEach(function (n) { n.remove(); });
    var text = clone.textContent.replace(/\s+/g, " ").trim();
    window.speechSynthesis.cancel();
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = document.documentElement.lang || "en";
    window.speechSynthesis.speak(utterance);
    button.setAttribute("data-spoken", text);
  });
  // The time guide of a step counts down; it never stops the student (extended time lengthens it).
  var timer = null;
  function startGuide() {
    var guide = document.querySelector(".time-guide[data-seconds]");
    if (timer) { clearInterval(timer); timer = null; }
    if (!guide) return;
    var left = parseInt(guide.getAttribute("data-seconds"), 10);
    var out = guide.querySelector(".time-left");
    function show() {
      var m = Math.floor(Math.max(left, 0) / 60), s = Math.max(left, 0) % 60;
      out.textContent = left > 0 ? m + ":" + (s < 10 ? "0" : "") + s + " left." : "Take the time you need.";
    }
    show();
    timer = setInterval(function () { left -= 1; show(); if (left <= 0) { clearInterval(timer); } }, 1000);
  }
  document.addEventListener("DOMContentLoaded", startGuide);
  document.addEventListener("htmx:afterSettle", startGuide);
})();
