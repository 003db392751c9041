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
})();
