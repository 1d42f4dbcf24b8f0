package dev.dmwc.writecache.trace;

import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The records of one volume of a trace, with up to {@code skipBad} malformed lines passed over
 * and counted: {@code trace stats} and {@code trace convert} read a trace as replay's
 * {@code --volume} and {@code --skip-bad} do. Every volume met is counted, chosen or not.
 */
public final class SelectedReader extends ForwardingTraceReader {
    private final String volume;
    private final long skipBad;
    private final Map<String, Long> volumesSeen = new TreeMap<>();
    private String runVolume;
    private String firstVolume;
    private boolean several;
    private long runCount;
    private long badLines;
    private String firstBad;

    /** {@code volume}: the one to keep ({@code null}: every record); {@code skipBad}: malformed lines tolerated. */
    public SelectedReader(TraceReader in, String volume, long skipBad) {
        super(in);
        this.volume = volume;
        this.skipBad = skipBad;
    }

    @Override
    public boolean next(TraceRecord r) throws IOException, TraceFormatException {
        while (true) {
            boolean more;
            try {
                more = in.next(r);
            } catch (TraceFormatException e) {
                if (++badLines > skipBad) {
                    throw e;
                }
                if (firstBad == null) {
                    firstBad = Traces.shown(e.getMessage());
                }
                continue;
            }
            if (!more) {
                return false;
            }
            String v = r.volume == null ? "" : r.volume;
            if (v != runVolume) { // readers hand out one String per run of a volume: count a run, then merge it
                endRun();
                runVolume = v;
                if (firstVolume == null) {
                    firstVolume = v;
                } else if (!several && !v.equals(firstVolume)) {
                    several = true;
                }
            }
            runCount++;
            if (volume == null || volume.equals(v)) {
                return true;
            }
        }
    }

    /** Records by volume read so far ("" for a trace without volumes), the chosen one and the others. */
    public Map<String, Long> volumesSeen() {
        endRun();
        return volumesSeen;
    }

    private void endRun() {
        if (runVolume != null && runCount > 0) {
            volumesSeen.merge(runVolume, runCount, Long::sum);
        }
        runCount = 0;
    }

    /** True once records of two different volumes were read. */
    public boolean severalVolumes() {
        return several;
    }

    /** Malformed lines passed over so far. */
    public long badLines() {
        return badLines;
    }

    /** The first malformed line's message, or null. */
    public String firstBad() {
        return firstBad;
    }
}
