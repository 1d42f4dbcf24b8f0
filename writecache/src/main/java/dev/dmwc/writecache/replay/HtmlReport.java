package dev.dmwc.writecache.replay;

import dev.dmwc.writecache.cli.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The replay report as one self-contained HTML page (no network): the summary table and three
 * plots over trace time — read hit ratio, dirty and free blocks, writeback rate — drawn as SVG by
 * a small inline script from the embedded timeline; for a sweep, the sweep's table, a bar chart of
 * each run's final hit ratios, and the same plots with one line a run. When the script has drawn
 * them it sets {@code data-plotted} on the body to the number of plots (what the headless-browser
 * test reads).
 */
final class HtmlReport {
    private HtmlReport() {}

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
        "#7f7f7f", "#bcbd22", "#17becf"};

    /** One replay: read hit ratio; dirty and free blocks; writeback rate. */
    static String render(ReplayReport r) {
        List<Object> runs = List.of(run(r));
        List<Object> warmups = new ArrayList<>();
        warmups.add(warmupEnd(r));
        String plots = "[{id: 'hit', series: [{run: 0, col: 1, name: 'read hit %', color: '#1f77b4'}]},"
                + " {id: 'blocks', series: [{run: 0, col: 2, name: 'dirty', color: '#d62728'},"
                + " {run: 0, col: 3, name: 'free', color: '#2ca02c'}]},"
                + " {id: 'wb', series: [{run: 0, col: 4, name: 'written back / s', color: '#9467bd'}]}]";
        return page("dmwc replay: " + r.trace, r.toText(), runs, warmups, List.of(), plots, xLabel(r), "Dirty and free cache blocks");
    }

    /** A sweep: the same three plots, one line a run (dirty blocks only: free is the cache's rest). */
    static String render(ReplaySweep sweep) {
        List<Object> runs = new ArrayList<>();
        List<Object> warmups = new ArrayList<>();
        List<Object> bars = new ArrayList<>();
        StringBuilder hit = new StringBuilder();
        StringBuilder dirty = new StringBuilder();
        StringBuilder wb = new StringBuilder();
        int n = 0;
        String x = "requests";
        for (ReplaySweep.Run run : sweep.runs()) {
            n++;
            if (run.report == null) {
                continue;
            }
            String color = COLORS[runs.size() % COLORS.length];
            String name = Json.of(n + ": " + run.settings.mode + " " + ReplayReport.size(run.settings.cacheBytes) + " "
                    + run.settings.blockSize + (run.settings.features.isEmpty() ? "" : " " + run.features())).trim();
            int index = runs.size();
            runs.add(run(run.report));
            warmups.add(warmupEnd(run.report));
            long[] f = ReplayReport.fields(run.report.finalStatus);
            bars.add(java.util.Arrays.asList(n, f[4] == 0 ? null : 100.0 * f[5] / f[4], f[6] == 0 ? null : 100.0 * (f[7] + f[8]) / f[6],
                    n + ": " + run.settings.mode + " " + run.cache() + " " + run.settings.blockSize
                            + (run.settings.features.isEmpty() ? "" : " " + run.features())));
            String series = "{run: " + index + ", col: %d, name: " + name + ", color: '" + color + "'}";
            hit.append(hit.length() == 0 ? "" : ", ").append(series.formatted(1));
            dirty.append(dirty.length() == 0 ? "" : ", ").append(series.formatted(2));
            wb.append(wb.length() == 0 ? "" : ", ").append(series.formatted(4));
            x = xLabel(run.report);
        }
        String plots = "[{id: 'hit', series: [" + hit + "]}, {id: 'blocks', series: [" + dirty + "]}, {id: 'wb', series: [" + wb
                + "]}]";
        return page("dmwc replay sweep: " + sweep.trace(), sweep.toText(), runs, warmups, bars, plots, x, "Dirty cache blocks");
    }

    /** Where the run's warm-up ended on the x axis, or null (a dashed line is drawn there). */
    private static Double warmupEnd(ReplayReport r) {
        return Double.isNaN(r.warmupEndX) ? null : r.warmupEndX;
    }

    private static String xLabel(ReplayReport r) {
        return r.scan.lastTimeNs >= 0 ? "trace time (s)" : "requests";
    }

    /** A run's timeline rows: x, read hit %, dirty, free, written back per second. */
    private static List<Object> run(ReplayReport r) {
        List<Object> rows = new ArrayList<>();
        double prevT = Double.NaN;
        double prevWb = 0;
        for (double[] s : r.samples) {
            double t = s[0];
            double rate = Double.isNaN(prevT) || t <= prevT ? 0 : (s[5] - prevWb) / (t - prevT);
            rows.add(List.of(t, s[2], s[3], s[4], rate));
            prevT = t;
            prevWb = s[5];
        }
        return rows;
    }

    /**
     * {@code bars}: for a sweep, one {@code [run number, read hit %, write hit %, name]} a run, drawn
     * first as a bar chart (the hit ratios against the cache: a miss-ratio curve when only the size
     * varies); empty for one replay.
     */
    private static String page(String title, String summary, List<Object> runs, List<Object> warmups, List<Object> bars,
            String plots, String xLabel, String blocksTitle) {
        String data = Json.of(List.of(runs, warmups, bars)).trim();
        String barsDiv = bars.isEmpty() ? ""
                : "<div class=\"plot\"><h2>Hit ratios at the end of each run (%)</h2><svg id=\"bars\" width=\"900\" "
                        + "height=\"260\"></svg></div>";
        return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <title>%s</title>
                <style>
                body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
                pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
                .plot { margin: 1.5em 0; }
                svg { background: #fff; border: 1px solid #ccc; }
                .axis { stroke: #888; stroke-width: 1; }
                .label { font-size: 11px; fill: #555; }
                </style></head>
                <body data-plotted="0">
                <h1>%s</h1>
                <pre id="summary">%s</pre>
                %s
                <div class="plot"><h2>Read hit ratio (%%, cumulative)</h2><svg id="hit" width="900" height="260"></svg></div>
                <div class="plot"><h2>%s</h2><svg id="blocks" width="900" height="260"></svg></div>
                <div class="plot"><h2>Writeback rate (blocks/s)</h2><svg id="wb" width="900" height="260"></svg></div>
                <script id="timeline" type="application/json">%s</script>
                <script>
                (function () {
                  var embedded = JSON.parse(document.getElementById('timeline').textContent);
                  var runs = embedded[0], warmups = embedded[1], bars = embedded[2];
                  var NS = 'http://www.w3.org/2000/svg';
                  var xLabel = %s;
                  function el(name, attrs, parent) {
                    var e = document.createElementNS(NS, name);
                    for (var k in attrs) e.setAttribute(k, attrs[k]);
                    parent.appendChild(e);
                    return e;
                  }
                  function plot(id, series) {
                    var svg = document.getElementById(id), W = 900, H = 260, L = 70, B = 35, T = 10, R = 20;
                    var xmax = 1e-9, ymax = 1e-9;
                    series.forEach(function (s) {
                      runs[s.run].forEach(function (r) { xmax = Math.max(xmax, r[0]); ymax = Math.max(ymax, r[s.col]); });
                    });
                    el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis'}, svg);
                    el('line', {x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis'}, svg);
                    el('text', {x: W / 2, y: H - 5, 'class': 'label'}, svg).textContent = xLabel + ' (max ' + xmax.toPrecision(4) + ')';
                    el('text', {x: 5, y: T + 10, 'class': 'label'}, svg).textContent = ymax.toPrecision(4);
                    el('text', {x: 5, y: H - B, 'class': 'label'}, svg).textContent = '0';
                    var drawn = 0;
                    series.forEach(function (s, i) {
                      var rows = runs[s.run];
                      var pts = rows.map(function (r) {
                        var x = L + (W - L - R) * r[0] / xmax, y = H - B - (H - B - T) * r[s.col] / ymax;
                        return x.toFixed(1) + ',' + y.toFixed(1);
                      }).join(' ');
                      var p = el('polyline', {points: pts, fill: 'none', stroke: s.color, 'stroke-width': 1.5}, svg);
                      p.setAttribute('data-points', rows.length);
                      el('text', {x: W - R - 250, y: T + 14 + 14 * i, style: 'fill: ' + s.color, 'class': 'label'}, svg).textContent = s.name;
                      var w = warmups[s.run];
                      if (w !== null && w !== undefined && !svg.querySelector('[data-warmup="' + s.run + '"]')) {
                        var wx = L + (W - L - R) * w / xmax;
                        el('line', {x1: wx, y1: T, x2: wx, y2: H - B, stroke: s.color, 'stroke-dasharray': '4 3',
                          'data-warmup': s.run}, svg);
                        el('text', {x: wx + 3, y: H - B - 4, 'class': 'label'}, svg).textContent = 'warm-up end';
                      }
                      drawn += rows.length > 0 ? 1 : 0;
                    });
                    return drawn > 0 ? 1 : 0;
                  }
                  function barChart() {
                    var svg = document.getElementById('bars'), W = 900, H = 260, L = 70, B = 35, T = 10, R = 20;
                    var group = (W - L - R) / bars.length, bw = Math.min(40, group / 3);
                    el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis'}, svg);
                    el('line', {x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis'}, svg);
                    el('text', {x: 5, y: T + 10, 'class': 'label'}, svg).textContent = '100';
                    el('text', {x: 5, y: H - B, 'class': 'label'}, svg).textContent = '0';
                    el('text', {x: W / 2, y: H - 5, 'class': 'label'}, svg).textContent = 'run';
                    var colors = ['#1f77b4', '#ff7f0e'], names = ['read hits', 'write hits'];
                    names.forEach(function (name, i) {
                      el('text', {x: W - R - 120, y: T + 14 + 14 * i, style: 'fill: ' + colors[i], 'class': 'label'}, svg).textContent = name;
                    });
                    bars.forEach(function (b, g) {
                      var x0 = L + g * group + group / 2 - bw;
                      [b[1], b[2]].forEach(function (v, i) {
                        var h = v === null ? 0 : (H - B - T) * v / 100;
                        var rect = el('rect', {x: x0 + i * bw, y: H - B - h, width: bw - 2, height: h, fill: colors[i], 'data-bar': g}, svg);
                        el('title', {}, rect).textContent = b[3] + ': ' + names[i] + ' ' + (v === null ? '-' : v.toFixed(1) + '%%');
                      });
                      el('text', {x: x0 + bw / 2, y: H - B + 14, 'class': 'label'}, svg).textContent = String(b[0]);
                    });
                    return 1;
                  }
                  var n = 0;
                  if (bars.length > 0) n += barChart();
                  %s.forEach(function (p) { n += plot(p.id, p.series); });
                  document.body.setAttribute('data-plotted', String(n));
                })();
                </script>
                </body></html>
                """.formatted(escape(title), escape(title.substring(0, title.indexOf(':'))), escape(summary), barsDiv, escape(blocksTitle),
                data.replace("</", "<\\/"), Json.of(xLabel).trim(), plots.replace("</", "<\\/"));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
