// The seller dashboard's chart: sales (bars) and revenue in dollars (line) by day, from data- attributes.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("sales-chart");
  if (!canvas || typeof window.Chart === "undefined") return;
  var read = function (name) { return JSON.parse(canvas.dataset[name] || "[]"); };
  new window.Chart(canvas, {
    data: {
      labels: read("labels"),
      datasets: [
        { type: "bar", label: "Sales", data: read("sales"), yAxisID: "sales", backgroundColor: "#91a7ff" },
        { type: "line", label: "Revenue ($)", data: read("revenue"), yAxisID: "revenue", borderColor: "#2b8a3e", tension: 0.2 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        sales: { position: "left", beginAtZero: true, ticks: { precision: 0 } },
        revenue: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  });
});
