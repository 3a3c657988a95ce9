/* Trustdesk models page: poll running training runs and show their progress. */
(function () {
  "use strict";
  document.querySelectorAll(".training-run").forEach(function (box) {
    var bar = box.querySelector("progress"), state = box.querySelector(".run-status"), message = box.querySelector(".run-message");
    function poll() {
      fetch(box.dataset.runUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json(); })
        .then(function (run) {
          bar.value = run.progress;
          bar.textContent = run.progress + "%";
          state.textContent = run.status;
          box.dataset.status = run.status;
          message.textContent = (run.message || "") + (run.version ? " — version " + run.version : "");
          if (run.status === "queued" || run.status === "running") { setTimeout(poll, 1000); }
          else if (run.status === "done" && !box.dataset.reloaded) {
            box.dataset.reloaded = "1";
            var note = document.createElement("a");
            note.href = window.location.pathname;
            note.textContent = "Reload to see the new version in the table";
            note.className = "reload-link";
            message.appendChild(document.createTextNode(" "));
            message.appendChild(note);
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (box.dataset.status === "queued" || box.dataset.status === "running") { poll(); }
  });
})();
