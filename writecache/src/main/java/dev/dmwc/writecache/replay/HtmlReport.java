package dev.dmwc.writecache.replay;

import dev.dmwc.writecache.cli.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * The replay report as one self-contained HTML page (no network): the summary table and three
 * plots over trace time — read hit ratio, dirty and free blocks, writeback rate — drawn as SVG by
 * a small inline script from the embedded timeline. When the script has drawn them it sets
 * {@code data-plotted} on the body to the number of plots (what the headless-browser test reads).
 */
final class HtmlReport {
    private HtmlReport() {}

    static String render(ReplayReport r) {
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
        String data = Json.of(rows).trim();
        String text = escape(r.toText());
        String xLabel = r.scan.lastTimeNs >= 0 ? "trace time (s)" : "requests";
        return """
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8">
                <title>dmwc replay: %s</title>
                <style>
                body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
                pre { background: #f6f6f6; padding: 1em; overflow-x: auto; }
                .plot { margin: 1.5em 0; }
                svg { background: #fff; border: 1px solid #ccc; }
                .axis { stroke: #888; stroke-width: 1; }
                .label { font-size: 11px; fill: #555; }
                </style></head>
                <body data-plotted="0">
                <h1>dmwc replay</h1>
                <pre id="summary">%s</pre>
                <div class="plot"><h2>Read hit ratio (%%, cumulative)</h2><svg id="hit" width="900" height="260"></svg></div>
                <div class="plot"><h2>Dirty and free cache blocks</h2><svg id="blocks" width="900" height="260"></svg></div>
                <div class="plot"><h2>Writeback rate (blocks/s)</h2><svg id="wb" width="900" height="260"></svg></div>
                <script id="timeline" type="application/json">%s</script>
                <script>
                (function () {
                  var rows = JSON.parse(document.getElementById('timeline').textContent);
                  var NS = 'http://www.w3.org/2000/svg';
                  function el(name, attrs, parent) {
                    var e = document.createElementNS(NS, name);
                    for (var k in attrs) e.setAttribute(k, attrs[k]);
                    parent.appendChild(e);
                    return e;
                  }
                  function plot(id, series, xLabel) {
                    var svg = document.getElementById(id), W = 900, H = 260, L = 70, B = 35, T = 10, R = 20;
                    var xs = rows.map(function (r) { return r[0]; });
                    var xmax = Math.max.apply(null, xs.concat([1e-9])), ymax = 1e-9;
                    series.forEach(function (s) { rows.forEach(function (r) { ymax = Math.max(ymax, r[s.col]); }); });
                    el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis'}, svg);
                    el('line', {x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis'}, svg);
                    el('text', {x: W / 2, y: H - 5, 'class': 'label'}, svg).textContent = xLabel + ' (max ' + xmax.toPrecision(4) + ')';
                    el('text', {x: 5, y: T + 10, 'class': 'label'}, svg).textContent = ymax.toPrecision(4);
                    el('text', {x: 5, y: H - B, 'class': 'label'}, svg).textContent = '0';
                    var drawn = 0;
                    series.forEach(function (s, i) {
                      var pts = rows.map(function (r) {
                        var x = L + (W - L - R) * r[0] / xmax, y = H - B - (H - B - T) * r[s.col] / ymax;
                        return x.toFixed(1) + ',' + y.toFixed(1);
                      }).join(' ');
                      var p = el('polyline', {points: pts, fill: 'none', stroke: s.color, 'stroke-width': 1.5}, svg);
                      p.setAttribute('data-points', rows.length);
                      el('text', {x: W - R - 150, y: T + 14 + 14 * i, fill: s.color, 'class': 'label'}, svg).textContent = s.name;
                      drawn += rows.length > 0 ? 1 : 0;
                    });
                    return drawn > 0 ? 1 : 0;
                  }
                  var n = 0;
                  n += plot('hit', [{col: 1, name: 'read hit %%', color: '#1f77b4'}], %s);
                  n += plot('blocks', [{col: 2, name: 'dirty', color: '#d62728'}, {col: 3, name: 'free', color: '#2ca02c'}], %s);
                  n += plot('wb', [{col: 4, name: 'written back / s', color: '#9467bd'}], %s);
                  document.body.setAttribute('data-plotted', String(n));
                })();
                </script>
                </body></html>
                """.formatted(escape(r.trace), text, data.replace("</", "<\\/"), Json.of(xLabel).trim(),
                Json.of(xLabel).trim(), Json.of(xLabel).trim());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
