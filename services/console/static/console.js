// The console's only script of its own: charts (ECharts, SVG renderer, no animation, readable
// by screen readers) whose data items carry a `link` to the list behind the number.
(function () {
  "use strict";

  function drawCharts(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll("[data-chart]").forEach(function (element) {
      if (element.dataset.drawn) return;
      var source = document.getElementById(element.dataset.chart);
      if (!source) return;
      var options = JSON.parse(source.textContent);
      options.animation = false;
      options.aria = Object.assign({ enabled: true }, options.aria || {});
      var chart = window.echarts.init(element, null, { renderer: "svg" });
      chart.setOption(options);
      chart.on("click", function (event) {
        var link = event.data && event.data.link;
        if (link) window.location.assign(link);
      });
      element.dataset.drawn = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawCharts(event.target); });
})();
