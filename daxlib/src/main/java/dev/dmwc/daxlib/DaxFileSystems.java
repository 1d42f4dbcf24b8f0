package dev.dmwc.daxlib;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The mounted file systems with DAX ({@code -o dax}, {@code dax=always}, {@code dax=inode}): where a
 * pmem cache file is real persistent memory and {@link DaxDevice} maps it {@code MAP_SYNC}. From
 * {@code /proc/self/mounts}.
 */
public final class DaxFileSystems {
    /** One mount: where, what file system, on which device, and its dax option as given. */
    public record Mount(String mountPoint, String type, String device, String daxOption) {
        public String describe() {
            return mountPoint + " (" + type + " on " + device + ", " + daxOption + ")";
        }
    }

    private DaxFileSystems() {
    }

    /** The DAX mounts of this machine now; none where /proc is not there. */
    public static List<Mount> mounted() {
        try {
            return parse(Files.readString(Path.of("/proc/self/mounts")));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    /** The DAX mounts in {@code mounts}, text in the format of /proc/self/mounts. */
    static List<Mount> parse(String mounts) {
        List<Mount> dax = new ArrayList<>();
        for (String line : mounts.split("\n")) {
            String[] f = line.trim().split(" ");
            if (f.length < 4) {
                continue;
            }
            for (String option : f[3].split(",")) {
                if (option.equals("dax") || option.startsWith("dax=")) {
                    if (!option.equals("dax=never")) {
                        dax.add(new Mount(unescape(f[1]), f[2], unescape(f[0]), option));
                    }
                    break;
                }
            }
        }
        return dax;
    }

    /** The kernel writes a space, tab, newline or backslash in a path as {@code \ooo}, three octal digits. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
