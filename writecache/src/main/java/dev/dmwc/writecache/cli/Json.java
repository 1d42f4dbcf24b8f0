package dev.dmwc.writecache.cli;

import java.util.List;

/** Minimal JSON encoding for the reports: maps, lists, strings, numbers, booleans, null. */
public final class Json {
    private Json() {}

    /** {@code o} as JSON, indented by two spaces per level. */
    public static String of(Object o) {
        StringBuilder sb = new StringBuilder();
        write(sb, o, 0, false);
        return sb.append('\n').toString();
    }

    /** {@code o} as JSON on one line, and a newline (JSON Lines: one object a line of a stream). */
    public static String line(Object o) {
        StringBuilder sb = new StringBuilder();
        write(sb, o, 0, true);
        return sb.append('\n').toString();
    }

    private static void write(StringBuilder sb, Object o, int depth, boolean oneLine) {
        if (o == null) {
            sb.append("null");
        } else if (o instanceof String s) {
            sb.append(str(s));
        } else if (o instanceof Double d) {
            sb.append(d.isNaN() || d.isInfinite() ? "null" : String.format(java.util.Locale.ROOT, "%.6g", d).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replaceAll("\\.(e|$)", "$1"));
        } else if (o instanceof Number || o instanceof Boolean) {
            sb.append(o);
        } else if (o instanceof java.util.Map<?, ?> m) {
            sb.append('{');
            int i = 0;
            for (var e : m.entrySet()) {
                if (oneLine) {
                    sb.append(i++ == 0 ? "" : ", ");
                } else {
                    sb.append(i++ == 0 ? "\n" : ",\n").append("  ".repeat(depth + 1));
                }
                sb.append(str(String.valueOf(e.getKey()))).append(": ");
                write(sb, e.getValue(), depth + 1, oneLine);
            }
            sb.append(m.isEmpty() || oneLine ? "" : "\n" + "  ".repeat(depth)).append('}');
        } else if (o instanceof java.util.Collection<?> c) {
            sb.append('[');
            int i = 0;
            for (Object x : c) {
                sb.append(i++ == 0 ? "" : ", ");
                write(sb, x, depth + 1, oneLine);
            }
            sb.append(']');
        } else {
            sb.append(str(o.toString()));
        }
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    static String strings(List<String> l) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < l.size(); i++) {
            sb.append(i == 0 ? "" : ",").append(str(l.get(i)));
        }
        return sb.append(']').toString();
    }
}
