/* Trustdesk threshold sliders: precision and recall on the held-out split, redrawn as the slider moves. */
(function () {
  "use strict";
  var form = document.getElementById("thresholds-form");
  var status = document.getElementById("curve-status");
  var charts = {}, curves = {};
  Chart.defaults.animation = false;

  function nearest(points, t) {
    return points.reduce(function (best, p) { return Math.abs(p.threshold - t) < Math.abs(best.threshold - t) ? p : best; });
  }
  function readout(name) {
    var value = parseFloat(document.getElementById("num-" + name).value);
    var curve = curves[name];
    if (!curve || isNaN(value)) { return; }
    var p = nearest(curve.points, value);
    document.getElementById("pr-" + name).textContent = "At " + value.toFixed(2) + ": precision " + (p.precision * 100).toFixed(0) +
      "%, recall " + (p.recall * 100).toFixed(0) + "%, " + (p.flagged * 100).toFixed(0) + "% of " + curve.n + " held-out items flagged.";
    var chart = charts[name];
    chart.data.datasets[2].data = [{ x: value, y: 0 }, { x: value, y: 1 }];
    chart.update("none");
  }
  function draw(name, curve) {
    curves[name] = curve;
    var xy = function (key) { return curve.points.map(function (p) { return { x: p.threshold, y: p[key] }; }); };
    charts[name] = new Chart(document.getElementById("chart-" + name), {
      type: "line",
      data: { datasets: [
        { label: "Precision", data: xy("precision"), borderColor: "#0072B2", backgroundColor: "#0072B2", pointRadius: 0 },
        { label: "Recall", data: xy("recall"), borderColor: "#D55E00", backgroundColor: "#D55E00", pointRadius: 0, borderDash: [6, 3] },
        { label: "Threshold", data: [], borderColor: "#111", backgroundColor: "#111", pointRadius: 0, borderWidth: 2 }
      ] },
      options: { maintainAspectRatio: false, parsing: false,
        scales: { x: { type: "linear", min: 0, max: 1, title: { display: true, text: "threshold" } },
                  y: { min: 0, max: 1, title: { display: true, text: "share" } } } }
    });
    readout(name);
  }
  form.querySelectorAll("input[type=range]").forEach(function (range) {
    var number = document.getElementById(range.dataset.target);
    var name = range.closest("fieldset").dataset.label;
    range.addEventListener("input", function () { number.value = parseFloat(range.value).toFixed(2); readout(name); });
    number.addEventListener("input", function () { range.value = number.value; readout(name); });
  });
  function load() {
    fetch(form.dataset.curveUrl, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json().then(function (body) { return [response.status, body]; }); })
      .then(function (result) {
        if (result[0] === 202) {
          status.textContent = "Computing precision and recall on the evaluation data for " + result[1].model_version + "…";
          setTimeout(load, 2000);
          return;
        }
        if (result[0] !== 200) { status.textContent = "The curves are not available."; return; }
        status.textContent = "Precision (solid) and recall (dashed) by threshold, model " + result[1].model_version + ".";
        status.dataset.ready = "1";
        Object.keys(result[1].labels).forEach(function (name) {
          if (document.getElementById("chart-" + name)) { draw(name, result[1].labels[name]); }
        });
      })
      .catch(function () { status.textContent = "Could not load the curves; the sliders still work."; });
  }
  load();
})();
