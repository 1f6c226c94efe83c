// The embedding explorer: plain ES5 so any browser runs it; it only reads the JSON element
// "explorer-data" that mnistmax.report.explorer writes beside it and draws on a canvas.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("explorer-data").textContent);
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
                 "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"];
  var W = 640, H = 520, PAD = 18, R = 3.2, HIT = 8;
  var $ = function (id) { return document.getElementById(id); };
  var canvas = $("ex-canvas"), ctx = canvas.getContext("2d");
  var runSel = $("ex-run"), mapSel = $("ex-map"), colourSel = $("ex-colour");
  var slider = $("ex-epoch"), epochLabel = $("ex-epoch-label"), title = $("ex-title");
  var tip = $("ex-tooltip"), tipImg = $("ex-tip-img"), tipText = $("ex-tip-text");
  var legend = $("ex-legend"), nbPanel = $("ex-neighbours");
  var state = { run: 0, map: "pca", colour: "label", epoch: 0, selected: -1 };
  var screen = [], drawn = {};
  var dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
  canvas.style.width = W + "px"; canvas.style.height = H + "px";

  function run() { return DATA.runs[state.run]; }
  function pool() { return DATA.datasets[run().dataset]; }
  function hasMap(r, kind) { return kind === "epochs" ? !!r.frames : !!r.maps[kind]; }
  function firstMap(r) { for (var k in r.maps) { return k; } return "epochs"; }

  function view() {
    var r = run();
    if (state.map === "epochs" && r.frames) {
      var f = r.frames, e = state.epoch;
      return { points: f.points, xy: f.coords[e], clusters: f.clusters[e], nb: f.neighbours[e],
               sims: f.sims[e], bounds: f.bounds, title: "PCA per epoch (final-epoch basis), " + f.titles[e] };
    }
    var m = r.maps[state.map];
    return { points: r.points, xy: m.xy, clusters: r.clusters, nb: r.neighbours, sims: r.sims,
             bounds: m.bounds, title: m.title + " of " + r.points.length + " test images" };
  }

  function colourOf(v, i) {
    return state.colour === "cluster" ? v.clusters[i] : pool().labels[v.points[i]];
  }

  function imageSrc(p) {
    var imgs = pool().images;
    return imgs ? "data:image/png;base64," + imgs[p] : "";
  }

  function render() {
    var v = view(), b = v.bounds;
    var sx = (W - 2 * PAD) / Math.max(b[1] - b[0], 1e-9), sy = (H - 2 * PAD) / Math.max(b[3] - b[2], 1e-9);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, W, H);
    screen = []; drawn = {};
    for (var i = 0; i < v.points.length; i++) {
      var x = PAD + (v.xy[2 * i] - b[0]) * sx, y = H - PAD - (v.xy[2 * i + 1] - b[2]) * sy;
      screen.push([x, y]);
    }
    for (i = 0; i < v.points.length; i++) {
      var c = colourOf(v, i);
      drawn[c] = (drawn[c] || 0) + 1;
      ctx.fillStyle = PALETTE[c % PALETTE.length];
      ctx.beginPath(); ctx.arc(screen[i][0], screen[i][1], R, 0, 2 * Math.PI); ctx.fill();
    }
    if (state.selected >= 0 && state.selected < v.points.length) {
      ctx.lineWidth = 1.5; ctx.strokeStyle = "#000";
      var ring = [state.selected].concat(v.nb[state.selected]);
      for (i = 0; i < ring.length; i++) {
        ctx.beginPath(); ctx.arc(screen[ring[i]][0], screen[ring[i]][1], i === 0 ? R + 4 : R + 2, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    title.textContent = run().name + ": " + v.title;
    canvas.setAttribute("data-classes", String(Object.keys(drawn).length));
    canvas.setAttribute("data-points", String(v.points.length));
    renderLegend();
  }

  // Class names and run names are data: they reach the page through textContent only.
  function element(tag, className, text) {
    var e = document.createElement(tag);
    if (className) { e.className = className; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function renderLegend() {
    var names = pool().classNames;
    legend.replaceChildren();
    for (var c = 0; c < names.length; c++) {
      var item = element("div", "ex-legend-item"), swatch = element("span", "ex-swatch");
      swatch.style.background = PALETTE[c % PALETTE.length];
      item.append(swatch, (state.colour === "cluster" ? "cluster → " : "") + names[c] + " ",
        element("small", "", "(" + (drawn[c] || 0) + ")"));
      legend.append(item);
    }
  }

  function nearest(ev) {
    var rect = canvas.getBoundingClientRect();
    var mx = (ev.clientX - rect.left) * (W / rect.width), my = (ev.clientY - rect.top) * (H / rect.height);
    var best = -1, bd = HIT * HIT;
    for (var i = 0; i < screen.length; i++) {
      var dx = screen[i][0] - mx, dy = screen[i][1] - my, d = dx * dx + dy * dy;
      if (d <= bd) { bd = d; best = i; }
    }
    return { index: best, x: mx, y: my };
  }

  function describe(v, i) {
    var p = v.points[i], names = pool().classNames;
    return "test #" + pool().testIndex[p] + " · label " + names[pool().labels[p]] +
      " · cluster → " + names[v.clusters[i]];
  }

  canvas.addEventListener("mousemove", function (ev) {
    var hit = nearest(ev);
    if (hit.index < 0) { tip.hidden = true; return; }
    var v = view();
    tipImg.src = imageSrc(v.points[hit.index]);
    tipImg.style.display = pool().images ? "block" : "none";
    tipText.textContent = describe(v, hit.index);
    tip.style.left = (hit.x + 14) + "px"; tip.style.top = (hit.y + 30) + "px";
    tip.hidden = false;
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  canvas.addEventListener("click", function (ev) {
    var hit = nearest(ev);
    select(hit.index);
  });

  function select(i) {
    state.selected = i;
    render();
    if (i < 0) { return; }
    var v = view(), head = element("p"), list = element("ol");
    head.append(element("b", "", describe(v, i)), element("br"), "nearest neighbours (cosine similarity):");
    for (var j = 0; j < v.nb[i].length; j++) {
      var n = v.nb[i][j], p = v.points[n], item = element("li", "ex-nb");
      item.setAttribute("data-index", String(n));
      if (pool().images) {
        var img = element("img");
        img.alt = "neighbour"; img.src = imageSrc(p);
        item.append(img);
      }
      item.append(pool().classNames[pool().labels[p]] + " · " + v.sims[i][j].toFixed(3));
      item.addEventListener("click", function () { select(parseInt(this.getAttribute("data-index"), 10)); });
      list.append(item);
    }
    nbPanel.replaceChildren(head, list);
  }

  function configureRun() {
    var r = run();
    for (var i = 0; i < mapSel.options.length; i++) {
      mapSel.options[i].disabled = !hasMap(r, mapSel.options[i].value);
    }
    if (!hasMap(r, state.map)) { state.map = firstMap(r); }
    mapSel.value = state.map;
    if (r.frames) {
      slider.disabled = false;
      slider.max = String(r.frames.coords.length - 1);
      state.epoch = Math.min(state.epoch, r.frames.coords.length - 1);
      if (state.map !== "epochs") { state.epoch = r.frames.coords.length - 1; }
      slider.value = String(state.epoch);
      epochLabel.textContent = r.frames.titles[state.epoch];
    } else {
      slider.disabled = true; slider.max = "0"; slider.value = "0";
      epochLabel.textContent = "no per-epoch frames in this run";
    }
    state.selected = -1;
    nbPanel.replaceChildren(element("p", "ex-hint",
      "Hover a point to see its image; click it to list its nearest neighbours (cosine, in the embedding)."));
  }

  runSel.addEventListener("change", function () { state.run = parseInt(runSel.value, 10); configureRun(); render(); });
  mapSel.addEventListener("change", function () { state.map = mapSel.value; state.selected = -1; configureRun(); render(); });
  colourSel.addEventListener("change", function () { state.colour = colourSel.value; render(); });
  slider.addEventListener("input", function () {
    if (!run().frames) { return; }
    state.epoch = parseInt(slider.value, 10);
    if (state.map !== "epochs") { state.map = "epochs"; mapSel.value = "epochs"; state.selected = -1; }
    epochLabel.textContent = run().frames.titles[state.epoch];
    render();
  });

  window.mnistmaxExplorer = {
    state: state,
    render: render,
    select: select,  // list point i's nearest neighbours, as a click on it does
    pointPosition: function (i) { return screen[i] ? [screen[i][0], screen[i][1]] : null; },
    drawnClasses: function () { return Object.keys(drawn).length; },
    palette: PALETTE
  };
  configureRun();
  render();
})();
