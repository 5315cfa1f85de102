/* The static latent explorer of thesis_lib (thesis_lib/widgets/static.py).
 *
 * static_html() inlines this file after each explorer's markup, followed by
 * thesisLibLatent(<the explorer's root element>). The root holds a JSON description
 * (script.tl-latent-data: steps, per_option, cols, tile width w and height h, slider limits per
 * option), one <img class="tl-latent-sprite"> with every precomputed image in one sprite sheet,
 * an optional <select> of options, and one <input type=range> plus <output> per slider.
 * Moving a slider or picking an option shows the tile
 *     t = option * per_option + (flat index of the slider positions, first slider slowest)
 * by moving the sheet inside its clipping box; the tile number is kept in data-tile.
 */
window.thesisLibLatent = window.thesisLibLatent || function (root) {
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var cfg = JSON.parse(root.querySelector("script.tl-latent-data").textContent);
  var img = root.querySelector("img.tl-latent-sprite");
  var sel = root.querySelector("select");
  var sliders = root.querySelectorAll("input[type=range]");
  var outs = root.querySelectorAll("output");
  function update() {
    var o = sel ? sel.selectedIndex : 0, f = 0, i;
    for (i = 0; i < sliders.length; i++) {
      var k = +sliders[i].value, lim = cfg.limits[o][i];
      var v = (lim[0] + (lim[1] - lim[0]) * k / (cfg.steps - 1)).toFixed(2);
      outs[i].textContent = v;
      sliders[i].setAttribute("aria-valuetext", v);
      f = f * cfg.steps + k;
    }
    var t = o * cfg.per_option + f, c = t % cfg.cols, r = (t - c) / cfg.cols;
    img.style.left = -c * cfg.w + "px";
    img.style.top = -r * cfg.h + "px";
    root.setAttribute("data-tile", t);
  }
  for (var i = 0; i < sliders.length; i++) sliders[i].addEventListener("input", update);
  if (sel) sel.addEventListener("change", update);
  update();
};
