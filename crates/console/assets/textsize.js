// 大字 (适老化): the text size chosen in this browser, applied before the page paints.
try {
  if (localStorage.getItem("xf-text-size") === "large") {
    document.documentElement.classList.add("large");
  }
} catch (e) { /* storage unavailable: normal size */ }
