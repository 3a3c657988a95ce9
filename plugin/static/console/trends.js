/* Trustdesk trends page: draws the weekly figures embedded in the page with the vendored Chart.js. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trends-data").textContent);
  // Colour-blind-safe palette (Okabe-Ito), dark enough on white.
  var palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];
  var percent = function (v) { return v === null ? null : Math.round(v * 1000) / 10; };
  Chart.defaults.font.size = 13;
  Chart.defaults.animation = false;

  function line(id, datasets, yTitle, max) {
    return new Chart(document.getElementById(id), {
      type: "line",
      data: { labels: data.weeks, datasets: datasets },
      options: { maintainAspectRatio: false, spanGaps: true,
        scales: { y: { beginAtZero: true, max: max, title: { display: true, text: yTitle } } } }
    });
  }
  function bars(id, labels, datasets, yTitle, options) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, title: { display: true, text: yTitle } } } }, options || {})
    });
  }
  function series(values, label, colour, extra) {
    return Object.assign({ label: label, data: values, borderColor: colour, backgroundColor: colour, tension: 0.2 }, extra || {});
  }

  line("chart-rates", [
    series(data.overall.blame_rate.map(percent), "Blame %", palette[1]),
    series(data.overall.deflection_rate.map(percent), "Deflection %", palette[0], { borderDash: [6, 3] })
  ], "% of tickets", 100);
  bars("chart-escalations", data.weeks, [series(data.overall.escalations, "Escalations", palette[3])], "tickets");

  var teams = Object.keys(data.teams).slice(0, palette.length);
  function perTeam(key, transform) {
    return teams.map(function (team, i) {
      var values = data.teams[team][key];
      return series(transform ? values.map(transform) : values, team, palette[i], { borderDash: i % 2 ? [6, 3] : [] });
    });
  }
  line("chart-team-blame", perTeam("blame_rate", percent), "% of tickets", 100);
  line("chart-team-deflection", perTeam("deflection_rate", percent), "% of tickets", 100);
  bars("chart-team-escalations", data.weeks, perTeam("escalations"), "tickets",
       { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "tickets" } } } });

  var agents = data.agents.slice(0, 15);
  bars("chart-agents", agents.map(function (a) { return a.name + " (" + a.tickets + ")"; }), [
    series(agents.map(function (a) { return percent(a.blame_rate); }), "Blame %", palette[1]),
    series(agents.map(function (a) { return percent(a.deflection_rate); }), "Deflection %", palette[0])
  ], "% of tickets", { indexAxis: "y", scales: { x: { beginAtZero: true, max: 100, title: { display: true, text: "% of tickets" } } } });

  line("chart-suggestions", [
    series(data.suggestions.share.map(percent), "Suggestions used %", palette[2])
  ], "% of tickets offered a suggestion", 100);
  document.body.dataset.charts = "drawn";
})();
