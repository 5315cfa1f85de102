/* The static training replay of thesis_lib (thesis_lib/widgets/replay.py).
 *
 * Replay.static_html() inlines this file after each replay's markup, followed by
 * thesisLibReplay(<the replay's root element>). The root holds a JSON description
 * (script.tl-replay-data: the carried snapshots' steps and epochs, per panel one base64 PNG per
 * snapshot, the indices of the printed strip, the words in both languages), a play button, one
 * <input type=range> over the carried snapshots (0 .. count-1) with its <output>, and per panel an
 * <img class="tl-replay-frame" data-panel="..."> that shows the last snapshot before the script runs.
 *
 * Moving the slider (or play, one snapshot every cfg.interval ms) shows snapshot i: each panel's
 * image gets frames[panel][i], its alternative text, the readout and the slider's aria-valuetext
 * say the step and epoch; data-index holds i. root.tlShow(i) does the same (the tests' hook).
 * div.tl-replay-strip, hidden on screen and shown in print (the PDF edition), gets a card per
 * strip snapshot with its step and pictures. On a Slovene page (document.documentElement.lang "sl")
 * the words come from cfg.words.sl and the data-sl attributes; numbers by Intl.NumberFormat("sl").
 */
window.thesisLibReplay = window.thesisLibReplay || function (root) {
  if (!root || root.getAttribute("data-ready")) return;
  var cfg = JSON.parse(root.querySelector("script.tl-replay-data").textContent);
  var sl = (document.documentElement.lang || "").toLowerCase().indexOf("sl") === 0;
  var words = cfg.words[sl ? "sl" : "en"];
  var num = function (v, d) {
    return sl && window.Intl ? new Intl.NumberFormat("sl", {minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false}).format(v) : v.toFixed(d);
  };
  if (sl) {
    root.querySelectorAll("[data-sl]").forEach(function (e) {
      var args = JSON.parse(e.getAttribute("data-sl-args") || "[]");
      e.textContent = e.getAttribute("data-sl").replace(/\{(\d+)\}/g, function (m, i) { return num(args[+i][0], args[+i][1]); });
    });
    var inputs = root.querySelector("img.tl-replay-inputs");
    if (inputs) inputs.alt = words.inputs;
  }
  var slider = root.querySelector("input[type=range]");
  var out = root.querySelector("output");
  var button = root.querySelector("button.tl-replay-play");
  var images = {};
  cfg.panels.forEach(function (p) { images[p] = root.querySelector('img.tl-replay-frame[data-panel="' + p + '"]'); });
  function when(i) {
    return words.when.replace("{step}", num(cfg.steps[i], 0)).replace("{epoch}", num(cfg.epochs[i], 2));
  }
  function show(i) {
    i = Math.max(0, Math.min(cfg.steps.length - 1, i | 0));
    cfg.panels.forEach(function (p) {
      images[p].src = "data:image/png;base64," + cfg.frames[p][i];
      images[p].alt = words[p] + ", " + when(i);
    });
    slider.value = i;
    out.textContent = when(i);
    slider.setAttribute("aria-valuetext", when(i));
    root.setAttribute("data-index", i);
  }
  var timer = null;
  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    button.textContent = words.play;
  }
  button.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (+slider.value >= cfg.steps.length - 1) show(0);
    button.textContent = words.pause;
    timer = setInterval(function () {
      if (+slider.value >= cfg.steps.length - 1) stop();
      else show(+slider.value + 1);
    }, cfg.interval);
  });
  slider.addEventListener("input", function () { stop(); show(+slider.value); });
  // the printed strip: a card per strip snapshot (hidden on screen; @media print shows it instead of the slider)
  var strip = root.querySelector(".tl-replay-strip");
  strip.setAttribute("aria-label", words.strip.replace("{n}", cfg.strip.length));
  cfg.strip.forEach(function (i) {
    var card = document.createElement("div");
    var caption = document.createElement("div");
    caption.textContent = when(i);
    card.appendChild(caption);
    cfg.panels.forEach(function (p) {
      var img = document.createElement("img");
      img.src = "data:image/png;base64," + cfg.frames[p][i];
      img.alt = words[p] + ", " + when(i);
      card.appendChild(img);
    });
    strip.appendChild(card);
  });
  root.tlShow = show;
  show(+slider.value);
  root.setAttribute("data-ready", "1");
};
