/* The live games of thesis_lib (thesis_lib/widgets/game.py builds the markup and the settings;
 * thesis_lib/toy_games.py defines the games and holds the Python twin of the random numbers and
 * the torch reference that the tests compare with this file, step by step).
 *
 * game.py inlines this file after each game's markup, followed by
 * thesisLibGame(<the game's root element>). The root holds the settings as JSON
 * (script.tl-game-data), native controls (select, input type=number, buttons) with labels, a
 * view canvas and a chart canvas. Everything is float64 (JavaScript numbers), as the reference:
 *
 * - Rng: sfc32 seeded by splitmix32 from (seed, stream): stream 0 trains (initial weights, then
 *   the minibatches), stream 1 draws the fixed samples that the page evaluates and draws.
 * - Net: an MLP (ReLU, or LeakyReLU for the GAN's D) with PyTorch's default initialisation law,
 *   forward and backward passes over a minibatch; Adam as torch.optim.Adam computes it.
 * - GAN: Algorithm 1 (k D steps, each on a fresh minibatch; one G step, minimax or
 *   non-saturating loss); every eval_every steps the JSD estimate (p_data and p_g smoothed by the
 *   same Gaussian kernel, p_g from G's samples of fixed noise, on a grid) and D on the grid.
 * - AAE: per step, on one minibatch of the ring: reconstruction (squared error, encoder and
 *   decoder), D on prior samples against codes, then the encoder with -log D(E(x)).
 *
 * Training runs in small batches per animation frame (about 12 ms), so the page stays
 * responsive; root.tlGame is the test hook (step(n), state(), reset(), play(), pause(), density).
 */
window.thesisLibGame = window.thesisLibGame || (function () {
  "use strict";
  var TAU = 2 * Math.PI;
  var COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

  // ------------------------------------------------------------------ random numbers
  function Rng(seed, stream) {
    var s = (seed + stream * 0x85EBCA6B) >>> 0, st = [];
    for (var i = 0; i < 4; i++) {
      s = (s + 0x9E3779B9) >>> 0;
      var t = s ^ (s >>> 16);
      t = Math.imul(t, 0x21F0AAAD);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735A2D97);
      st.push((t ^ (t >>> 15)) >>> 0);
    }
    this.a = st[0]; this.b = st[1]; this.c = st[2]; this.d = st[3];
    for (i = 0; i < 12; i++) this.u32();
  }
  Rng.prototype.u32 = function () {
    var a = this.a, b = this.b, c = this.c, d = this.d;
    var t = (((a + b) >>> 0) + d) >>> 0;
    this.d = (d + 1) >>> 0;
    this.a = (b ^ (b >>> 9)) >>> 0;
    this.b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    this.c = (c + t) >>> 0;
    return t;
  };
  Rng.prototype.uniform = function () { return (this.u32() + 0.5) / 4294967296; };
  Rng.prototype.normal = function () {
    var u1 = this.uniform(), u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  };
  Rng.prototype.index = function (n) { return Math.min(Math.floor(this.uniform() * n), n - 1); };

  // ------------------------------------------------------------------ the samplers (point by point)
  function ring(rng, n, p, out, labels) {
    for (var i = 0; i < n; i++) {
      var c = rng.index(p.n_components);
      var tangential = p.std * rng.normal(), radial = p.std / 4 * rng.normal();
      var a = c * (2 * Math.PI / p.n_components) + tangential / p.radius, r = p.radius + radial;
      out[2 * i] = r * Math.cos(a); out[2 * i + 1] = r * Math.sin(a);
      if (labels) labels[i] = c;
    }
  }
  function sampleData(rng, cfg, dataset, n, labels) {
    if (dataset !== "toy-1d") {
      var x2 = new Float64Array(2 * n);
      ring(rng, n, cfg.ring, x2, labels);
      return x2;
    }
    var mix = cfg.mixture_1d, w = mix.weights, cum = [], total = 0, acc = 0, x = new Float64Array(n);
    for (var i = 0; i < w.length; i++) total += w[i];
    for (i = 0; i < w.length; i++) { acc += w[i]; cum.push(acc / total); }
    for (i = 0; i < n; i++) {
      var u = rng.uniform(), c = w.length - 1;
      for (var j = 0; j < cum.length; j++) if (u < cum[j]) { c = j; break; }
      x[i] = mix.means[c] + mix.stds[c] * rng.normal();
      if (labels) labels[i] = c;
    }
    return x;
  }
  function sampleNoise(rng, kind, n, dim) {
    var z = new Float64Array(n * dim);
    for (var i = 0; i < z.length; i++) z[i] = kind === "gaussian" ? rng.normal() : 2 * rng.uniform() - 1;
    return z;
  }
  function samplePrior(rng, cfg, name, n, std) {
    var z = new Float64Array(2 * n);
    if (name === "mixture") { ring(rng, n, cfg.priors.mixture, z); return z; }
    for (var i = 0; i < n; i++) {
      if (name === "gaussian") {
        z[2 * i] = std * rng.normal(); z[2 * i + 1] = std * rng.normal();
      } else {  // swiss roll: toy.swiss_roll with noise 0, times the prior's scale
        var s = cfg.priors["swiss-roll"].scale, t = 0.5 * Math.PI + 3 * Math.PI * Math.sqrt(rng.uniform());
        z[2 * i] = s * t * Math.cos(t) / (3.5 * Math.PI); z[2 * i + 1] = s * t * Math.sin(t) / (3.5 * Math.PI);
      }
    }
    return z;
  }

  // ------------------------------------------------------------------ networks and Adam
  function Net(sizes, slope, rng) {
    this.slope = slope; this.layers = [];
    for (var l = 0; l + 1 < sizes.length; l++) {
      var nin = sizes[l], nout = sizes[l + 1], bound = 1 / Math.sqrt(nin);
      var W = new Float64Array(nout * nin), b = new Float64Array(nout);
      for (var i = 0; i < W.length; i++) W[i] = (2 * rng.uniform() - 1) * bound;
      for (i = 0; i < nout; i++) b[i] = (2 * rng.uniform() - 1) * bound;
      this.layers.push({nin: nin, nout: nout, W: W, b: b});
    }
  }
  Net.prototype.forward = function (x, n) {
    var acts = [x], pre = [], h = x, last = this.layers.length - 1;
    for (var l = 0; l <= last; l++) {
      var L = this.layers[l], nin = L.nin, nout = L.nout, W = L.W, y = new Float64Array(n * nout);
      for (var i = 0; i < n; i++) {
        for (var o = 0; o < nout; o++) {
          var s = 0, wo = o * nin, off = i * nin;
          for (var j = 0; j < nin; j++) s += h[off + j] * W[wo + j];
          y[i * nout + o] = s + L.b[o];
        }
      }
      pre.push(y);
      if (l < last) {
        h = new Float64Array(y.length);
        for (i = 0; i < y.length; i++) h[i] = y[i] > 0 ? y[i] : this.slope * y[i];
        acts.push(h);
      }
    }
    return {acts: acts, pre: pre, out: pre[last], n: n};
  };
  Net.prototype.zeros = function () {
    return this.layers.map(function (L) { return {W: new Float64Array(L.W.length), b: new Float64Array(L.b.length)}; });
  };
  // dOut: the loss's gradient w.r.t. the output; grads (or null): added to; returns the input's gradient if wanted
  Net.prototype.backward = function (f, dOut, grads, wantInput) {
    var n = f.n, d = dOut;
    for (var l = this.layers.length - 1; l >= 0; l--) {
      var L = this.layers[l], nin = L.nin, nout = L.nout, h = f.acts[l], i, o, j, g, wo, off;
      if (grads) {
        var gW = grads[l].W, gb = grads[l].b;
        for (i = 0; i < n; i++) for (o = 0; o < nout; o++) {
          g = d[i * nout + o];
          if (g === 0) continue;  // a unit that is off for this example (ReLU): adds nothing
          gb[o] += g;
          for (j = 0, wo = o * nin, off = i * nin; j < nin; j++) gW[wo + j] += g * h[off + j];
        }
      }
      if (l === 0 && !wantInput) return null;
      var dIn = new Float64Array(n * nin);
      for (i = 0; i < n; i++) for (o = 0; o < nout; o++) {
        g = d[i * nout + o];
        if (g === 0) continue;
        for (j = 0, wo = o * nin, off = i * nin; j < nin; j++) dIn[off + j] += g * L.W[wo + j];
      }
      if (l > 0) {
        var p = f.pre[l - 1];
        for (i = 0; i < dIn.length; i++) if (!(p[i] > 0)) dIn[i] *= this.slope;
      }
      d = dIn;
    }
    return d;
  };
  Net.prototype.params = function () {
    var out = [];
    this.layers.forEach(function (L) { out.push(Array.from(L.W), Array.from(L.b)); });
    return out;
  };
  function Adam(net, betas) { this.b1 = betas[0]; this.b2 = betas[1]; this.t = 0; this.m = net.zeros(); this.v = net.zeros(); }
  Adam.prototype.step = function (net, grads, lr) {  // torch.optim.Adam's arithmetic, eps 1e-8
    this.t += 1;
    var b1 = this.b1, b2 = this.b2, w = 1 - b1, stepSize = lr / (1 - Math.pow(b1, this.t)), bc2 = Math.sqrt(1 - Math.pow(b2, this.t));
    for (var l = 0; l < net.layers.length; l++) {
      for (var key in grads[l]) {
        var p = net.layers[l][key], g = grads[l][key], m = this.m[l][key], v = this.v[l][key];
        for (var i = 0; i < p.length; i++) {
          var gi = g[i];
          m[i] = Math.abs(w) < 0.5 ? m[i] + w * (gi - m[i]) : gi - (gi - m[i]) * (1 - w);  // torch's lerp
          v[i] = v[i] * b2 + (1 - b2) * gi * gi;
          p[i] = p[i] + (-stepSize) * m[i] / (Math.sqrt(v[i]) / bc2 + 1e-8);
        }
      }
    }
  };
  function logsig(a) { return Math.min(a, 0) - Math.log1p(Math.exp(-Math.abs(a))); }
  function dlogsig(a) { var z = Math.exp(-Math.abs(a)); return a < 0 ? 1 - z / (1 + z) : z / (1 + z); }  // = sigmoid(-a)
  function sigmoid(a) { return 1 / (1 + Math.exp(-a)); }
  function mean(a) { var s = 0; for (var i = 0; i < a.length; i++) s += a[i]; return s / a.length; }

  // ------------------------------------------------------------------ the GAN: Algorithm 1
  function Gan(cfg) { this.cfg = cfg; this.s = cfg.settings; this.reset(); }
  Gan.prototype.reset = function () {
    var s = this.s, v = this.cfg.view, rng = new Rng(s.seed, 0);
    this.dd = s.dataset === "toy-1d" ? 1 : 2; this.zd = s.latent_dim || this.dd;
    this.rng = rng;
    this.G = new Net([this.zd].concat(s.g_hidden, [this.dd]), 0, rng);
    this.D = new Net([this.dd].concat(s.d_hidden, [1]), this.cfg.leaky, rng);
    this.optG = new Adam(this.G, s.adam_betas); this.optD = new Adam(this.D, s.adam_betas);
    this.step = 0;
    this.hist = {V: [], loss_d: [], loss_g: [], d_real: [], d_fake: [], jsd: []};
    var ev = new Rng(s.seed, 1);
    this.zEval = sampleNoise(ev, s.noise, v.samples, this.zd);
    this.xEval = sampleData(ev, this.cfg, s.dataset, 500);
    this.grid = makeGrid(v, this.dd);
    this.pData = density(this.cfg, s.dataset, this.grid.points, v.bandwidth);
    this.evaluate();
  };
  Gan.prototype.iterate = function () {
    var s = this.s, m = s.batch_size, gm = 1 / m, i, a, fr, ff;
    for (var j = 0; j < s.k; j++) {
      var x = sampleData(this.rng, this.cfg, s.dataset, m), z = sampleNoise(this.rng, s.noise, m, this.zd);
      var fake = this.G.forward(z, m).out;
      fr = this.D.forward(x, m); ff = this.D.forward(fake, m);
      var dR = new Float64Array(m), dF = new Float64Array(m), lr = 0, lf = 0;
      for (i = 0; i < m; i++) {
        a = fr.out[i]; lr += logsig(a); dR[i] = -gm * dlogsig(a);
        a = ff.out[i]; lf += logsig(-a); dF[i] = gm * dlogsig(-a);
      }
      var grads = this.D.zeros();
      this.D.backward(fr, dR, grads, false); this.D.backward(ff, dF, grads, false);
      this.optD.step(this.D, grads, s.lr_d);
      var value = lr / m + lf / m;
    }
    this.hist.V.push(value); this.hist.loss_d.push(-value);
    this.hist.d_real.push(mean(fr.out.map(sigmoid))); this.hist.d_fake.push(mean(ff.out.map(sigmoid)));
    var fg = this.G.forward(sampleNoise(this.rng, s.noise, m, this.zd), m), fd = this.D.forward(fg.out, m);
    var dA = new Float64Array(m), loss = 0, minimax = s.generator_loss === "minimax";
    for (i = 0; i < m; i++) {
      a = fd.out[i];
      if (minimax) { loss += logsig(-a); dA[i] = -(gm * dlogsig(-a)); } else { loss -= logsig(a); dA[i] = -(gm * dlogsig(a)); }
    }
    this.hist.loss_g.push(loss / m);
    var gG = this.G.zeros();
    this.G.backward(fg, this.D.backward(fd, dA, null, true), gG, false);
    this.optG.step(this.G, gG, s.lr_g);
    this.step += 1;
    if (this.step % this.cfg.view.eval_every === 0) this.evaluate();
  };
  Gan.prototype.evaluate = function () {
    var v = this.cfg.view, g = this.grid;
    this.samples = this.G.forward(this.zEval, v.samples).out;
    this.pG = kde(this.samples, this.dd, g, v.bandwidth);
    this.jsd = jsd(this.pData, this.pG, g.cellSize);
    this.dGrid = this.D.forward(g.points, g.count).out.map(sigmoid);
    this.hist.jsd.push([this.step, this.jsd]);
  };
  Gan.prototype.nets = function () { return {G: this.G.params(), D: this.D.params()}; };

  // ------------------------------------------------------------------ the AAE's phases
  function Aae(cfg) { this.cfg = cfg; this.s = cfg.settings; this.reset(); }
  Aae.prototype.reset = function () {
    var s = this.s, v = this.cfg.view, rng = new Rng(s.seed, 0);
    this.rng = rng;
    this.E = new Net([2].concat(s.hidden, [2]), 0, rng);
    this.Dec = new Net([2].concat(s.hidden.slice().reverse(), [2]), 0, rng);
    this.D = new Net([2].concat(s.d_hidden, [1]), 0, rng);
    var b = s.adam_betas;
    this.opt = {aeE: new Adam(this.E, b), aeDec: new Adam(this.Dec, b), D: new Adam(this.D, b), E: new Adam(this.E, b)};
    this.step = 0;
    this.hist = {recon: [], loss_d: [], loss_e: [], d_prior: [], d_code: []};
    var ev = new Rng(s.seed, 1);
    this.labels = new Int32Array(v.samples);
    this.xEval = sampleData(ev, this.cfg, "mixture-2d", v.samples, this.labels);
    this.zpEval = samplePrior(ev, this.cfg, s.prior, v.samples, s.prior_std);
    this.grid = makeGrid(v, 2);
    this.evaluate();
  };
  Aae.prototype.iterate = function () {
    var s = this.s, m = s.batch_size, gm = 1 / m, i, a;
    var x = sampleData(this.rng, this.cfg, "mixture-2d", m);
    // 1. reconstruction: encoder and decoder descend the mean squared error
    var fe = this.E.forward(x, m), fx = this.Dec.forward(fe.out, m), dX = new Float64Array(2 * m), rec = 0;
    for (i = 0; i < 2 * m; i++) { var diff = fx.out[i] - x[i]; rec += diff * diff; dX[i] = gm * (2 * diff); }
    var gE = this.E.zeros(), gDec = this.Dec.zeros();
    this.E.backward(fe, this.Dec.backward(fx, dX, gDec, true), gE, false);
    this.opt.aeE.step(this.E, gE, s.lr); this.opt.aeDec.step(this.Dec, gDec, s.lr);
    this.hist.recon.push(rec / m);
    // 2. D: prior samples (positive) against codes (negative)
    var zq = this.E.forward(x, m).out, zp = samplePrior(this.rng, this.cfg, s.prior, m, s.prior_std);
    var fp = this.D.forward(zp, m), fq = this.D.forward(zq, m), dP = new Float64Array(m), dQ = new Float64Array(m), lp = 0, lq = 0;
    for (i = 0; i < m; i++) {
      a = fp.out[i]; lp += logsig(a); dP[i] = -gm * dlogsig(a);
      a = fq.out[i]; lq += logsig(-a); dQ[i] = gm * dlogsig(-a);
    }
    var gD = this.D.zeros();
    this.D.backward(fp, dP, gD, false); this.D.backward(fq, dQ, gD, false);
    this.opt.D.step(this.D, gD, s.reg_lr);
    this.hist.loss_d.push(-(lp / m + lq / m));
    this.hist.d_prior.push(mean(fp.out.map(sigmoid))); this.hist.d_code.push(mean(fq.out.map(sigmoid)));
    // 3. the encoder, as the generator: -log D(E(x))
    fe = this.E.forward(x, m);
    var fd = this.D.forward(fe.out, m), dA = new Float64Array(m), le = 0;
    for (i = 0; i < m; i++) { a = fd.out[i]; le -= logsig(a); dA[i] = -(gm * dlogsig(a)); }
    gE = this.E.zeros();
    this.E.backward(fe, this.D.backward(fd, dA, null, true), gE, false);
    this.opt.E.step(this.E, gE, s.reg_lr);
    this.hist.loss_e.push(le / m);
    this.step += 1;
    if (this.step % this.cfg.view.eval_every === 0) this.evaluate();
  };
  Aae.prototype.evaluate = function () {
    this.codes = this.E.forward(this.xEval, this.cfg.view.samples).out;
    this.dGrid = this.D.forward(this.grid.points, this.grid.count).out.map(sigmoid);
  };
  Aae.prototype.nets = function () { return {E: this.E.params(), Dec: this.Dec.params(), D: this.D.params()}; };

  // ------------------------------------------------------------------ the JSD estimate
  function makeGrid(v, dim) {  // cell centres of a cells^dim grid over [lo, hi]^dim
    var c = v.cells, step = (v.hi - v.lo) / c, axis = [], i, j;
    for (i = 0; i < c; i++) axis.push(v.lo + (i + 0.5) * step);
    var count = dim === 1 ? c : c * c, points = new Float64Array(count * dim);
    if (dim === 1) points.set(axis);
    else for (i = 0; i < c; i++) for (j = 0; j < c; j++) { points[2 * (i * c + j)] = axis[j]; points[2 * (i * c + j) + 1] = axis[i]; }
    return {axis: axis, step: step, count: count, points: points, cellSize: Math.pow(step, dim), dim: dim, lo: v.lo};
  }
  function density(cfg, dataset, points, h) {  // p_data convolved with N(0, h^2 I): toy_games.smoothed_density
    var n = dataset === "toy-1d" ? points.length : points.length / 2, p = new Float64Array(n), i, c;
    if (dataset === "toy-1d") {
      var mix = cfg.mixture_1d, total = 0;
      for (c = 0; c < mix.weights.length; c++) total += mix.weights[c];
      for (c = 0; c < mix.weights.length; c++) {
        var sd = Math.sqrt(mix.stds[c] * mix.stds[c] + h * h);
        for (i = 0; i < n; i++) p[i] += (mix.weights[c] / total) * Math.exp(-0.5 * Math.pow((points[i] - mix.means[c]) / sd, 2)) / (sd * Math.sqrt(TAU));
      }
      return p;
    }
    var R = cfg.ring, st = Math.sqrt(R.std * R.std + h * h), sr = Math.sqrt(Math.pow(R.std / 4, 2) + h * h);
    for (i = 0; i < n; i++) {
      var x = points[2 * i], y = points[2 * i + 1], r = Math.sqrt(x * x + y * y), a = Math.atan2(y, x), s = 0;
      for (c = 0; c < R.n_components; c++) {
        var delta = a - c * TAU / R.n_components + Math.PI;
        delta = ((delta % TAU) + TAU) % TAU - Math.PI;
        s += Math.exp(-0.5 * Math.pow(R.radius * delta / st, 2) - 0.5 * Math.pow((r - R.radius) / sr, 2)) / (TAU * st * sr);
      }
      p[i] = s * R.radius / Math.max(r, 1e-12) / R.n_components;
    }
    return p;
  }
  function kde(samples, dim, g, h) {  // Gaussian kernel density estimate on the grid (kernel cut at 5 h)
    var n = samples.length / dim, c = g.axis.length, q = new Float64Array(g.count), w = Math.ceil(5 * h / g.step);
    var norm = 1 / (n * Math.pow(h * Math.sqrt(TAU), dim)), ex = new Float64Array(2 * w + 2), ey = new Float64Array(2 * w + 2);
    function kernel(v, out) {  // the first grid index near v, and exp(-(axis - v)^2 / 2h^2) from there
      var i0 = Math.max(0, Math.floor((v - g.lo) / g.step) - w), i1 = Math.min(c - 1, i0 + 2 * w + 1);
      for (var i = i0; i <= i1; i++) out[i - i0] = Math.exp(-0.5 * Math.pow((g.axis[i] - v) / h, 2));
      return [i0, i1];
    }
    for (var s = 0; s < n; s++) {
      var rx = kernel(samples[dim * s], ex);
      if (dim === 1) { for (var i = rx[0]; i <= rx[1]; i++) q[i] += ex[i - rx[0]] * norm; continue; }
      var ry = kernel(samples[2 * s + 1], ey);
      for (var iy = ry[0]; iy <= ry[1]; iy++) {
        var fy = ey[iy - ry[0]] * norm;
        for (var ix = rx[0]; ix <= rx[1]; ix++) q[iy * c + ix] += ex[ix - rx[0]] * fy;
      }
    }
    return q;
  }
  function jsd(p, q, cell) {  // toy_games.jsd: the mass outside the grid is one more cell
    var sp = 0, sq = 0, out = 0, i;
    function term(a, b) { var m = (a + b) / 2; return (a > 0 ? 0.5 * a * Math.log(a / m) : 0) + (b > 0 ? 0.5 * b * Math.log(b / m) : 0); }
    for (i = 0; i < p.length; i++) { sp += p[i] * cell; sq += q[i] * cell; out += term(p[i] * cell, q[i] * cell); }
    return out + term(Math.max(0, 1 - sp), Math.max(0, 1 - sq));
  }

  // ------------------------------------------------------------------ drawing
  function fmtFactory(lang) {
    return function (x, digits) {
      var s = x.toFixed(digits);
      if (lang === "sl") s = s.replace(".", ",");
      return s.replace(/^-/, "\u2212");
    };
  }
  function frame(ctx, x0, y0, w, h, title) {
    ctx.strokeStyle = "#888"; ctx.lineWidth = 1; ctx.strokeRect(x0 + 0.5, y0 + 0.5, w, h);
    if (title) { ctx.fillStyle = "#222"; ctx.fillText(title, x0 + 4, y0 + 13); }
  }
  function polyline(ctx, xs, ys, color, dash, width) {
    ctx.beginPath(); ctx.setLineDash(dash || []); ctx.strokeStyle = color; ctx.lineWidth = width || 1.5;
    for (var i = 0; i < xs.length; i++) { if (i) ctx.lineTo(xs[i], ys[i]); else ctx.moveTo(xs[i], ys[i]); }
    ctx.stroke(); ctx.setLineDash([]);
  }
  function heat(ctx, values, c, x0, y0, size, ramp) {  // values on a c x c grid (row 0 at the bottom)
    var off = document.createElement("canvas"); off.width = c; off.height = c;
    var octx = off.getContext("2d"), img = octx.createImageData(c, c);
    for (var i = 0; i < c; i++) for (var j = 0; j < c; j++) {
      var rgb = ramp(values[i * c + j]), k = 4 * ((c - 1 - i) * c + j);
      img.data[k] = rgb[0]; img.data[k + 1] = rgb[1]; img.data[k + 2] = rgb[2]; img.data[k + 3] = 255;
    }
    octx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true; ctx.drawImage(off, x0, y0, size, size);
  }
  function dRamp(d) {  // D = 0 light orange, 1/2 white, 1 blue
    return d < 0.5 ? [255, Math.round(255 - 110 * (1 - 2 * d)), Math.round(255 - 200 * (1 - 2 * d))]
      : [Math.round(255 - 185 * (2 * d - 1)), Math.round(255 - 125 * (2 * d - 1)), 255];
  }
  function dots(ctx, pts, n, map, color, r, labels, clip) {  // clip: [x, y, size] of the square to draw inside
    ctx.save();
    if (clip) { ctx.beginPath(); ctx.rect(clip[0], clip[1], clip[2], clip[2]); ctx.clip(); }
    for (var i = 0; i < n; i++) {
      ctx.fillStyle = labels ? COLORS[labels[i] % 10] : color;
      var p = map(pts[2 * i], pts[2 * i + 1]);
      ctx.fillRect(p[0] - r, p[1] - r, 2 * r, 2 * r);
    }
    ctx.restore();
  }
  function label(ctx, text, x, y) {  // text on a white ground, over whatever is drawn
    var w = ctx.measureText(text).width;
    ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x - 1, y - 10, w + 2, 13);
    ctx.fillStyle = "#333"; ctx.fillText(text, x, y);
  }
  // a panel of lines over the steps; series: [{ys, xs (optional), color, dash}]
  function panel(ctx, x0, y0, w, h, title, series, lo, hi, refs, fmt, steps) {
    frame(ctx, x0, y0, w, h, title);
    var top = y0 + 18, ph = h - 34, sx = w / Math.max(steps, 50);
    function Y(v) { return top + ph * (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)); }
    (refs || []).forEach(function (r) { polyline(ctx, [x0, x0 + w], [Y(r), Y(r)], "#aaa", [3, 3], 1); });
    series.forEach(function (s) {
      var xs = [], ys = [], n = s.ys.length, every = Math.max(1, Math.floor(n / w));
      for (var i = 0; i < n; i += every) {
        var acc = 0, k = 0;
        for (var j = i; j < Math.min(n, i + every); j++) { acc += s.ys[j]; k++; }
        xs.push(x0 + sx * (s.xs ? s.xs[i] : i + 1)); ys.push(Y(acc / k));
      }
      polyline(ctx, xs, ys, s.color, s.dash, 1.3);
    });
    label(ctx, fmt(hi, hi < 1 ? 2 : 1), x0 + 3, top + 9); label(ctx, fmt(lo, lo > -1 && lo < 1 ? 2 : 1), x0 + 3, y0 + h - 4);
    var last = String(Math.max(steps, 50));
    label(ctx, last, x0 + w - ctx.measureText(last).width - 3, y0 + h - 4);
  }

  // ------------------------------------------------------------------ the widget
  return function (root) {
    if (!root || root.getAttribute("data-ready")) return;
    var cfg = JSON.parse(root.querySelector("script.tl-game-data").textContent);
    var lang = (document.documentElement.lang || "en").toLowerCase().indexOf("sl") === 0 ? "sl" : "en";
    var L = cfg.labels[lang], fmt = fmtFactory(lang), s = cfg.settings;
    var game = cfg.kind === "gan" ? new Gan(cfg) : new Aae(cfg);
    var view = root.querySelector("canvas.tl-game-view"), chart = root.querySelector("canvas.tl-game-chart");
    var readout = root.querySelector(".tl-game-readout"), playBtn = root.querySelector("button[data-act=play]");
    var playing = false, timer = null;
    root.querySelectorAll("[data-i18n]").forEach(function (el) {
      var t = L[el.getAttribute("data-i18n")];
      if (t) el.textContent = t.replace("{data}", L[s.dataset] || "");
    });
    root.querySelectorAll("[data-i18n-label]").forEach(function (el) { el.setAttribute("aria-label", L[el.getAttribute("data-i18n-label")]); });
    root.querySelectorAll("select[data-number] option").forEach(function (o) {
      o.textContent = (+o.value).toFixed(10).replace(/0+$/, "").replace(".", lang === "sl" ? "," : ".");
    });
    root.querySelector(".tl-game-nojs").style.display = "none";

    function drawGan() {
      var ctx = view.getContext("2d"), W = view.width, H = view.height, g = game.grid, v = cfg.view;
      ctx.clearRect(0, 0, W, H); ctx.font = "12px sans-serif";
      if (game.dd === 1) {
        var x0 = 10, y0 = 22, w = W - 20, h = H - 50, lo = v.show[0], hi = v.show[1];
        var X = function (x) { return x0 + w * (x - lo) / (hi - lo); }, Y = function (y) { return y0 + h * (1 - Math.min(1, y)); };
        frame(ctx, x0, y0, w, h);
        polyline(ctx, [x0, x0 + w], [Y(0.5), Y(0.5)], "#ccc", [2, 3], 1);
        var xs = [], pd = [], pg = [], dx = [];
        for (var i = 0; i < g.count; i++) {
          if (g.axis[i] < lo || g.axis[i] > hi) continue;
          xs.push(X(g.axis[i])); pd.push(Y(game.pData[i])); pg.push(Y(game.pG[i])); dx.push(Y(game.dGrid[i]));
        }
        polyline(ctx, xs, pd, "#000", [2, 3], 2); polyline(ctx, xs, pg, "#2ca02c", [], 2); polyline(ctx, xs, dx, "#1f5fbf", [7, 4], 2);
        ctx.fillStyle = "#444";
        for (var t = Math.ceil(lo); t <= hi; t++) ctx.fillText(fmt(t, 0), X(t) - 4, y0 + h + 14);
        label(ctx, "1", x0 + 3, Y(1) + 12); label(ctx, fmt(0.5, 1), x0 + 3, Y(0.5) - 3);
        var leg = [[L.p_data, "#000", [2, 3]], [L.p_g, "#2ca02c", []], [L.d, "#1f5fbf", [7, 4]]], lx = x0;
        leg.forEach(function (e) {
          polyline(ctx, [lx, lx + 22], [10, 10], e[1], e[2], 2); ctx.fillStyle = "#222"; ctx.fillText(e[0], lx + 26, 14);
          lx += 40 + ctx.measureText(e[0]).width;
        });
        return;
      }
      var size = Math.min(W, H) - 30, ox = (W - size) / 2, oy = 26;
      var map = function (a, b) { return [ox + size * (a - v.lo) / (v.hi - v.lo), oy + size * (1 - (b - v.lo) / (v.hi - v.lo))]; };
      heat(ctx, game.dGrid, g.axis.length, ox, oy, size, dRamp);
      frame(ctx, ox, oy, size, size);
      dots(ctx, game.xEval, 500, map, "rgba(0,0,0,0.55)", 1.2, null, [ox, oy, size]);
      dots(ctx, game.samples, v.samples, map, "rgba(20,140,40,0.8)", 1.4, null, [ox, oy, size]);
      ctx.fillStyle = "#222"; ctx.fillText(L.samples, ox, 11); ctx.fillText(L.surface, ox, 23);
    }
    function drawAae() {
      var ctx = view.getContext("2d"), W = view.width, H = view.height, v = cfg.view, n = v.samples;
      ctx.clearRect(0, 0, W, H); ctx.font = "12px sans-serif";
      var size = Math.min(W, H) - 30, ox = (W - size) / 2, oy = 26;
      var map = function (a, b) { return [ox + size * (a - v.lo) / (v.hi - v.lo), oy + size * (1 - (b - v.lo) / (v.hi - v.lo))]; };
      heat(ctx, game.dGrid, game.grid.axis.length, ox, oy, size, dRamp);
      frame(ctx, ox, oy, size, size);
      dots(ctx, game.zpEval, n, map, "rgba(90,90,90,0.6)", 1.2, null, [ox, oy, size]);
      dots(ctx, game.codes, n, map, null, 1.5, game.labels, [ox, oy, size]);
      var inset = size * 0.26, ix = ox + 2, iy = oy + 2;  // the data, coloured by cluster
      ctx.fillStyle = "rgba(255,255,255,0.9)"; ctx.fillRect(ix, iy, inset, inset); frame(ctx, ix, iy, inset, inset);
      dots(ctx, game.xEval, n, function (a, b) { return [ix + inset * (a + 6) / 12, iy + inset * (1 - (b + 6) / 12)]; }, null, 0.8, game.labels);
      ctx.fillStyle = "#222"; ctx.fillText(L.data, ix + 3, iy + inset - 4);
      ctx.fillText(L.codes, ox, 11); ctx.fillText(L.surface.replace("D(x)", "D(z)"), ox, 23);
    }
    function drawChart() {
      var ctx = chart.getContext("2d"), W = chart.width, H = chart.height, h = game.hist, n = game.step, half = (W - 6) / 2;
      ctx.clearRect(0, 0, W, H); ctx.font = "11px sans-serif";
      if (cfg.kind === "gan") {
        var lo = -2, jx = h.jsd.map(function (p) { return p[0]; });
        for (var i = 0; i < h.V.length; i++) if (h.V[i] < lo) lo = Math.floor(h.V[i]);
        panel(ctx, 0, 0, half, H - 1, L.value, [{ys: h.V, color: "#1f5fbf"}], lo, 0, [-Math.log(4)], fmt, n);
        panel(ctx, half + 5, 0, half, H - 1, L.jsd.replace(/ \(.*/, ""), [{ys: h.jsd.map(function (p) { return p[1]; }), xs: jx, color: "#d62728"}],
          0, 0.7, [Math.log(2)], fmt, n);
      } else {
        var logs = h.recon.map(function (r) { return Math.log10(Math.max(r, 1e-4)); });
        panel(ctx, 0, 0, half, H - 1, L.recon + " (log10)", [{ys: logs, color: "#555"}], -4, 2, [0], fmt, n);
        panel(ctx, half + 5, 0, half, H - 1, L.d_prior + ", " + L.d_code, [{ys: h.d_prior, color: "#7f7f7f"}, {ys: h.d_code, color: "#1f77b4", dash: [4, 2]}],
          0, 1, [0.5], fmt, n);
      }
    }
    function draw() {
      if (cfg.kind === "gan") {
        drawGan();
        var V = game.hist.V.length ? game.hist.V[game.hist.V.length - 1] : NaN, df = game.hist.d_fake[game.hist.d_fake.length - 1];
        readout.textContent = L.steps + ": " + game.step + (isNaN(V) ? "" : " \u00b7 V(D, G) " + fmt(V, 3) + " \u00b7 D(G(z)) " + fmt(df, 3)) +
          " \u00b7 JSD \u2248 " + fmt(game.jsd, 3);
      } else {
        drawAae();
        var k = game.hist.recon.length - 1;
        readout.textContent = L.steps + ": " + game.step + (k < 0 ? "" : " \u00b7 " + L.recon + " " + fmt(game.hist.recon[k], 3) +
          " \u00b7 D(z~p) " + fmt(game.hist.d_prior[k], 2) + " \u00b7 D(z~q) " + fmt(game.hist.d_code[k], 2));
      }
      drawChart();
      root.setAttribute("data-step", game.step);
    }
    function run(n) { for (var i = 0; i < n; i++) game.iterate(); draw(); }
    function tick() {
      timer = null;
      if (!playing) return;
      var t0 = performance.now();
      do { game.iterate(); } while (performance.now() - t0 < 12 && game.step < cfg.max_steps);
      draw();
      if (game.step >= cfg.max_steps) pause(); else timer = requestAnimationFrame(tick);
    }
    function play() {
      if (playing) return;
      playing = true; playBtn.textContent = L.pause; playBtn.setAttribute("aria-pressed", "true");
      if (game.step >= cfg.max_steps) cfg.max_steps += game.step;
      timer = requestAnimationFrame(tick);
    }
    function pause() {
      playing = false; playBtn.textContent = L.play; playBtn.setAttribute("aria-pressed", "false");
      if (timer !== null) { cancelAnimationFrame(timer); timer = null; }
    }
    function reset() { pause(); game.reset(); draw(); }
    var RESTART = {seed: 1, noise: 1, prior: 1};
    root.querySelectorAll(".tl-game-controls select, .tl-game-controls input").forEach(function (el) {
      el.addEventListener("change", function () {
        var name = el.name, value = el.value;
        if (el.type === "number") {
          var lo = +el.min, hi = +el.max, k = Math.round(+value);
          if (!isFinite(k)) k = s[name];
          value = Math.min(hi, Math.max(lo, k)); el.value = value;
        } else if (el.hasAttribute("data-number")) value = +value;
        s[name] = value;
        if (RESTART[name]) reset(); else draw();
      });
    });
    playBtn.addEventListener("click", function () { if (playing) pause(); else play(); });
    root.querySelector("button[data-act=step]").addEventListener("click", function () { pause(); run(1); });
    root.querySelector("button[data-act=reset]").addEventListener("click", reset);
    root.tlGame = {
      step: function (n) { run(n || 1); return game.step; },
      state: function () {
        return {step: game.step, playing: playing, settings: JSON.parse(JSON.stringify(s)), history: game.hist, nets: game.nets(),
                jsd: game.jsd, samples: Array.from(game.samples || []), codes: Array.from(game.codes || []),
                prior: Array.from(game.zpEval || []), labels: Array.from(game.labels || [])};
      },
      reset: reset, play: play, pause: pause,
      density: function (points) { return Array.from(density(cfg, s.dataset, Float64Array.from(points), cfg.view.bandwidth)); }
    };
    root.setAttribute("data-ready", "1");
    draw();
  };
})();
