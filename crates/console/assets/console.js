// The console's only script: small conveniences; every page works without it, except the charts.
(function () {
  "use strict";
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  document.querySelectorAll("input[data-default-now]").forEach(function (el) {
    if (!el.value) {
      var d = new Date();
      el.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
    }
  });
  // 大字: the text size, kept in this browser (textsize-1.js applies it before the page paints).
  document.querySelectorAll("[data-textsize]").forEach(function (b) {
    var root = document.documentElement;
    b.setAttribute("aria-pressed", root.classList.contains("large") ? "true" : "false");
    b.addEventListener("click", function () {
      var large = root.classList.toggle("large");
      b.setAttribute("aria-pressed", large ? "true" : "false");
      try { localStorage.setItem("xf-text-size", large ? "large" : "normal"); } catch (e) { /* private mode */ }
    });
  });
  // The field a page asks for first has the focus before the page has loaded (Chromium applies
  // `autofocus` at its next rendering, which a quick reader may beat).
  var first = document.querySelector("[autofocus]");
  if (first && document.activeElement === document.body) { first.focus(); }
  // 全选本页: ticks every case of the list for a batch (each box works alone without this).
  document.querySelectorAll("[data-pick-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=case][form=batch]").forEach(function (c) { c.checked = all.checked; });
    });
  });
  // A form sent once: its button waits for the answer.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
  window.addEventListener("load", function () {
    var data = document.getElementById("chart-data");
    if (!data || !window.echarts) { return; }
    var d = JSON.parse(data.textContent);
    var font = getComputedStyle(document.body).fontFamily;
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var c = echarts.init(el, null, { locale: "ZH", renderer: "canvas" });
      option.textStyle = { fontFamily: font };
      option.animation = false;
      c.setOption(option);
      window.addEventListener("resize", function () { c.resize(); });
      el.setAttribute("data-ready", "1");
    }
    chart("chart-channel", {
      title: { text: "按渠道（件）", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: d.channel }]
    });
    chart("chart-months", {
      title: { text: "月度趋势（件）", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: ["本期", "上年同期"] },
      xAxis: { type: "category", data: d.months.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "本期", type: "line", data: d.months.current },
        { name: "上年同期", type: "line", data: d.months.previous, lineStyle: { type: "dashed" } }
      ]
    });
    chart("chart-categories", {
      title: { text: "热点类别（件）", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      grid: { left: 90 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: d.categories.labels },
      series: [{ name: "件", type: "bar", data: d.categories.items }]
    });
    chart("chart-townships", {
      title: { text: "各乡镇比较", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0, data: ["件", "办结"] },
      xAxis: { type: "category", data: d.townships.labels, axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "件", type: "bar", data: d.townships.items },
        { name: "办结", type: "bar", data: d.townships.closed }
      ]
    });
  });
})();
