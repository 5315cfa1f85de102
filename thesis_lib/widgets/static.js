/* The static latent explorer of thesis_lib (thesis_lib/widgets/static.py, decoder_view.py).
 *
 * static_html() inlines this file after each explorer's markup, followed by
 * thesisLibLatent(<the explorer's root element>). The root holds a JSON description
 * (script.tl-latent-data), an optional <select> of options and one <input type=range> plus
 * <output> per slider (integer positions 0 .. steps-1 over each option's limits). Two modes:
 *
 * - "decoder" (data-mode="decoder"): the JSON holds, per option, the decoder's layers on the
 *   slider values (the explorer's base point and directions are folded into the first layer;
 *   decoder.js runs them). At every slider position the script decodes the slider values and
 *   draws the image on a canvas that replaces the initial <img class="tl-latent-image">.
 *   root.tlDecode(option, values) returns the pixels of any slider values; root.tlTimes keeps
 *   the milliseconds of each update. script.tl-latent-probes holds torch's images at a few
 *   positions (the browser tests' parity check).
 * - "sprite": one <img class="tl-latent-sprite"> holds every precomputed image (steps per
 *   slider); the script shows the tile
 *       t = option * per_option + (flat index of the slider positions, first slider slowest)
 *   by moving the sheet inside its clipping box; the tile number is kept in data-tile.
 *
 * data-position holds what is shown ("option:position,position" or the tile number). On a page whose
 * language is Slovene (document.documentElement.lang "sl"), the words come from the elements'
 * data-sl attributes (thesis_lib/widgets/words.py) and numbers are written by Intl.NumberFormat("sl").
 *
 * Accessibility: the controls are native (keyboard: Tab, arrows, Page Up/Down, Home, End), each
 * labelled; at every move each slider's aria-valuetext, its readout and the image's alternative
 * text ("decoder output at z1 = 0.50, z2 = −1.00, class 3": the canvas's aria-label, the
 * image's alt) follow, in the page's language (document.documentElement.lang "sl": Slovene words
 * and decimal commas; cfg.words, from static.py's WORDS, which writes the same text first).
 */
window.thesisLibLatent = window.thesisLibLatent || function (root) {
  if (!root || root.getAttribute("data-ready")) return;
  var cfg = JSON.parse(root.querySelector("script.tl-latent-data").textContent);
  // the page's language: Slovene pages get the Slovene words (data-sl, data-sl-alt; words.py) and numbers
  var sl = (document.documentElement.lang || "").toLowerCase().indexOf("sl") === 0;
  var num = function (v, d) {
    return sl && window.Intl ? new Intl.NumberFormat("sl", {minimumFractionDigits: d, maximumFractionDigits: d}).format(v) : v.toFixed(d);
  };
  if (sl) {
    root.querySelectorAll("[data-sl]").forEach(function (e) {
      var args = JSON.parse(e.getAttribute("data-sl-args") || "[]");
      e.textContent = e.getAttribute("data-sl").replace(/\{(\d+)\}/g, function (m, i) { return num(args[+i][0], args[+i][1]); });
    });
    root.querySelectorAll("[data-sl-alt]").forEach(function (e) { e.alt = e.getAttribute("data-sl-alt"); });
  }
  var sel = root.querySelector("select");
  var sliders = root.querySelectorAll("input[type=range]");
  var outs = root.querySelectorAll("output");
  var lang = (document.documentElement.lang || "en").toLowerCase().indexOf("sl") === 0 ? "sl" : "en";
  var words = (cfg.words || {})[lang] || {image: "{point}"};
  var selLabel = sel && root.querySelector('label[for="' + sel.id + '"]');
  if (selLabel && words[cfg.selector]) selLabel.textContent = words[cfg.selector];
  var view = null;  // the element that shows the image: the canvas, or the sprite sheet
  var draw;
  function speak(x) {  // as static.py's speech(): two decimals, a minus sign, a decimal comma in Slovene
    var t = x.toFixed(2);
    if (/^-0\.00$/.test(t)) t = t.slice(1);
    if (lang === "sl") t = t.replace(".", ",");
    return t.replace("-", "\u2212");
  }
  function describe(o, v) {
    var point = [];
    var labels = (lang === "sl" && cfg.labels_sl) || cfg.labels, names = (lang === "sl" && cfg.names_sl) || cfg.names;
    for (var i = 0; i < v.length; i++) point.push(labels[i] + " = " + speak(v[i]));
    var text = point.join(", ");
    if (names && names.length > 1) text += ", " + (words[cfg.selector] || cfg.selector) + " " + names[o];
    return words.image.replace("{point}", text);
  }
  function values(o) {
    var v = [];
    for (var i = 0; i < sliders.length; i++) {
      var lim = cfg.limits[o][i];
      v.push(lim[0] + (lim[1] - lim[0]) * (+sliders[i].value) / (cfg.steps - 1));
    }
    return v;
  }
  if (cfg.mode === "decoder") {
    var nets;
    try {
      nets = cfg.options.map(function (opt) { return window.thesisLibDecoder.load(opt.layers); });
    } catch (e) {  // weights missing from the page: keep the initial image
      if (window.console) console.warn(e.message);
      return;
    }
    var img = root.querySelector("img.tl-latent-image");
    var canvas = document.createElement("canvas");
    canvas.width = cfg.w; canvas.height = cfg.h;
    canvas.className = "tl-latent-canvas";
    canvas.setAttribute("role", "img");
    canvas.style.cssText = "display:block;width:" + cfg.w * cfg.scale + "px;height:" + cfg.h * cfg.scale +
      "px;image-rendering:crisp-edges;image-rendering:pixelated";
    var ctx = canvas.getContext("2d"), pixels = ctx.createImageData(cfg.w, cfg.h);
    root.tlTimes = [];
    root.tlDecode = function (o, v) { return window.thesisLibDecoder.run(nets[o], v); };
    draw = function (o) {
      var t0 = performance.now(), x = root.tlDecode(o, values(o)), d = pixels.data;
      for (var k = 0; k < x.length; k++) {
        var g = Math.round(Math.min(1, Math.max(0, x[k])) * 255);
        d[4 * k] = d[4 * k + 1] = d[4 * k + 2] = g; d[4 * k + 3] = 255;
      }
      ctx.putImageData(pixels, 0, 0);
      var pos = [];
      for (var i = 0; i < sliders.length; i++) pos.push(sliders[i].value);
      root.setAttribute("data-position", o + ":" + pos.join(","));
      root.tlTimes.push(performance.now() - t0);
    };
    img.parentNode.insertBefore(canvas, img);
    img.style.display = "none";
    view = canvas;
  } else {
    var sprite = root.querySelector("img.tl-latent-sprite");
    view = sprite;
    draw = function (o) {
      var f = 0;
      for (var i = 0; i < sliders.length; i++) f = f * cfg.steps + (+sliders[i].value);
      var t = o * cfg.per_option + f, c = t % cfg.cols, r = (t - c) / cfg.cols;
      sprite.style.left = -c * cfg.w + "px";
      sprite.style.top = -r * cfg.h + "px";
      root.setAttribute("data-tile", t);
      root.setAttribute("data-position", t);
    };
  }
  root.setAttribute("data-ready", "1");
  function update() {
    var o = sel ? sel.selectedIndex : 0, v = values(o);
    for (var i = 0; i < sliders.length; i++) {
      outs[i].textContent = speak(v[i]);
      sliders[i].setAttribute("aria-valuetext", speak(v[i]));
    }
    draw(o);
    var text = describe(o, v);
    if (view.tagName === "CANVAS") view.setAttribute("aria-label", text);
    else view.setAttribute("alt", text);
  }
  for (var i = 0; i < sliders.length; i++) sliders[i].addEventListener("input", update);
  if (sel) sel.addEventListener("change", update);
  update();
};
