// Fills the clock paragraph of the index page with the browser's local time.
(function () {
  var clock = document.getElementById("clock");
  if (clock) {
    clock.textContent = clock.dataset.label.replace("%(time)s", new Date().toLocaleTimeString());
  }
})();
