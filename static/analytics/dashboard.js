/* The business metrics dashboard: each <canvas data-chart data-src> is drawn from its API endpoint (same origin, the staff session). */
(function () {
  "use strict";

  var ZERO_DECIMAL = ["jpy", "krw", "vnd", "clp", "isk", "huf"];
  var COLOURS = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2"];

  function major(amount, currency) {
    return ZERO_DECIMAL.indexOf(currency) >= 0 ? amount : amount / 100;
  }

  function byCurrency(points, labelKey, valueKey) {
    var labels = [];
    var series = {};
    points.forEach(function (p) {
      if (labels.indexOf(p[labelKey]) < 0) labels.push(p[labelKey]);
      (series[p.currency] = series[p.currency] || {})[p[labelKey]] = major(p[valueKey], p.currency);
    });
    var datasets = Object.keys(series).sort().map(function (currency, i) {
      return {
        label: currency.toUpperCase(),
        data: labels.map(function (l) { return series[currency][l] || 0; }),
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
      };
    });
    return { labels: labels, datasets: datasets };
  }

  var builders = {
    mrr: function (body) {
      return { type: "line", data: byCurrency(body.points, "day", "mrr") };
    },
    revenue: function (body) {
      return { type: "bar", data: byCurrency(body.points, "first_day", "net") };
    },
    growth: function (body) {
      var labels = body.points.map(function (p) { return p.first_day; });
      return {
        type: "bar",
        data: {
          labels: labels,
          datasets: [
            { label: "New", data: body.points.map(function (p) { return p.new; }), backgroundColor: COLOURS[1], yAxisID: "y" },
            { label: "Cancelled", data: body.points.map(function (p) { return -p.cancelled; }), backgroundColor: COLOURS[4], yAxisID: "y" },
            {
              label: "Churn %", type: "line", data: body.points.map(function (p) { return p.churn_rate === null ? null : Number(p.churn_rate); }),
              borderColor: COLOURS[2], backgroundColor: COLOURS[2], yAxisID: "churn",
            },
          ],
        },
        options: { scales: { churn: { position: "right", min: 0, grid: { drawOnChartArea: false } } } },
      };
    },
    funnel: function (body) {
      return {
        type: "bar",
        data: {
          labels: body.steps.map(function (s) { return s.step.replace("_", " "); }),
          datasets: [{ label: "Count", data: body.steps.map(function (s) { return s.count; }), backgroundColor: COLOURS[0] }],
        },
        options: { indexAxis: "y", plugins: { legend: { display: false } } },
      };
    },
  };

  function draw(canvas) {
    var build = builders[canvas.dataset.chart];
    fetch(canvas.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (body) {
        var config = build(body);
        config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
        new window.Chart(canvas, config);
        canvas.dataset.drawn = "true";
      })
      .catch(function (error) {
        canvas.dataset.drawn = "error";
        var note = document.createElement("p");
        note.className = "chart-error";
        note.textContent = "This chart could not be loaded (" + error.message + ").";
        canvas.replaceWith(note);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  });
})();
