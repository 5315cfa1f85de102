/* The decoder's forward pass in plain JavaScript (thesis_lib/widgets/decoder_export.py).
 *
 * static_html() inlines this file (before static.js) when a widget carries its decoder. A
 * decoder is a list of layers (JSON, from decoder_export.trace): linear, convT, relu, leaky,
 * sigmoid, tanh, concat, add, mul, affine. Their tensors are references {k: key, f: format,
 * s: shape, g: group} to <script type="application/octet-stream" class="tl-latent-weights"
 * data-key="key"> elements holding base64 bytes: one element per tensor and page, so widgets
 * and options that use the same weights share them. Formats: f32, f16 (little-endian halves),
 * qN for N = 6, 7, 8 (N-bit integers q + 2^(N-1), packed least significant bit first, then one
 * float16 scale per group of g values; the weight is q * scale). Everything is read once into
 * Float32Arrays; decoding then runs one latent point at a time, in float32 storage.
 */
window.thesisLibDecoder = window.thesisLibDecoder || (function () {
  var cache = {};
  function half(h) {
    var s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    if (e === 0) return s * m * Math.pow(2, -24);
    if (e === 31) return m ? NaN : s * Infinity;
    return s * (1 + m / 1024) * Math.pow(2, e - 15);
  }
  function bytes(key) {
    var el = document.querySelector('script.tl-latent-weights[data-key="' + key + '"]');
    if (!el) throw new Error("thesis_lib widget: no weights " + key + " on this page");
    var bin = atob(el.textContent.trim()), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function tensor(ref) {
    var id = ref.k + ":" + ref.f;
    if (cache[id]) return cache[id];
    var b = bytes(ref.k), dv = new DataView(b.buffer), n = 1, i;
    for (i = 0; i < ref.s.length; i++) n *= ref.s[i];
    var out = new Float32Array(n);
    if (ref.f === "f32") for (i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
    else if (ref.f === "f16") for (i = 0; i < n; i++) out[i] = half(dv.getUint16(2 * i, true));
    else if (ref.f.charAt(0) === "q") {  // N-bit integers + 2^(N-1), packed least significant bit first
      var nb = +ref.f.slice(1), offset = 1 << (nb - 1), mask = (1 << nb) - 1, g = ref.g, data = Math.ceil(n * nb / 8);
      for (i = 0; i < n; i++) {
        var bit = i * nb, at = bit >> 3, two = b[at] | ((at + 1 < data ? b[at + 1] : 0) << 8);
        out[i] = (((two >> (bit & 7)) & mask) - offset) * half(dv.getUint16(data + 2 * Math.floor(i / g), true));
      }
    } else throw new Error("thesis_lib widget: unknown weight format " + ref.f);
    cache[id] = out;
    return out;
  }
  function load(layers) {  // resolve every tensor reference once
    return layers.map(function (l) {
      var t = {}, k;
      for (k in l.t) t[k] = tensor(l.t[k]);
      return {op: l.op, p: l.p || {}, t: t};
    });
  }
  function convT(x, W, b, p) {
    var cin = p.cin, cout = p.cout, kh = p.kh, kw = p.kw, sh = p.stride[0], sw = p.stride[1];
    var ph = p.pad[0], pw = p.pad[1], hin = p.hin, win = p.win, hout = p.hout, wout = p.wout;
    var acc = new Float64Array(cout * hout * wout), c, i, j, o, ki, kj;
    for (c = 0; c < cin; c++) for (i = 0; i < hin; i++) for (j = 0; j < win; j++) {
      var v = x[(c * hin + i) * win + j];
      if (v === 0) continue;
      for (o = 0; o < cout; o++) {
        var wb = ((c * cout + o) * kh) * kw, ob = o * hout * wout;
        for (ki = 0; ki < kh; ki++) {
          var y = i * sh - ph + ki;
          if (y < 0 || y >= hout) continue;
          for (kj = 0; kj < kw; kj++) {
            var xx = j * sw - pw + kj;
            if (xx >= 0 && xx < wout) acc[ob + y * wout + xx] += v * W[wb + ki * kw + kj];
          }
        }
      }
    }
    var out = new Float32Array(acc.length);
    for (o = 0; o < cout; o++) for (i = 0; i < hout * wout; i++) out[o * hout * wout + i] = acc[o * hout * wout + i] + b[o];
    return out;
  }
  function run(layers, z) {
    var x = Float32Array.from(z), i, j;
    layers.forEach(function (l) {
      var t = l.t, p = l.p, y;
      if (l.op === "linear") {
        var W = t.W, b = t.b, m = b.length, n = x.length;
        y = new Float32Array(m);
        for (i = 0; i < m; i++) {
          var s = 0, r = i * n;
          for (j = 0; j < n; j++) s += W[r + j] * x[j];
          y[i] = s + b[i];
        }
      } else if (l.op === "relu") y = x.map(function (v) { return v > 0 ? v : 0; });
      else if (l.op === "leaky") y = x.map(function (v) { return v > 0 ? v : v * p.slope; });
      else if (l.op === "sigmoid") y = x.map(function (v) { return 1 / (1 + Math.exp(-v)); });
      else if (l.op === "tanh") y = x.map(Math.tanh);
      else if (l.op === "concat") {
        y = new Float32Array(t.before.length + x.length + t.after.length);
        y.set(t.before, 0); y.set(x, t.before.length); y.set(t.after, t.before.length + x.length);
      } else if (l.op === "add") y = x.map(function (v, k) { return v + t.v[k]; });
      else if (l.op === "mul") y = x.map(function (v, k) { return v * t.v[k]; });
      else if (l.op === "affine") y = x.map(function (v, k) { var c = Math.floor(k / p.size); return v * t.scale[c] + t.shift[c]; });
      else if (l.op === "convT") y = convT(x, t.W, t.b, p);
      else throw new Error("thesis_lib widget: unknown layer " + l.op);
      x = y;
    });
    return x;
  }
  return {load: load, run: run};
})();
