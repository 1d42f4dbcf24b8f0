package dev.dmwc.writecache.script;

import java.util.List;

/**
 * How much virtual time a script's ops take in {@link ScriptRunner}, so that the target's timers
 * ({@code max_age}, {@code autocommit_time}, the {@code pause_writeback} sleep) fall between the
 * same ops as they do on the kernel oracle, where every op is a process started by
 * {@code guest/wcs.sh} in a QEMU TCG guest.
 *
 * <p>An op takes {@link #before} milliseconds from its start until its action reaches the target
 * (the ioctl of a {@code dmsetup} call, the bio of a {@code wcio} call), and {@link #after} from
 * that action until the next op starts. Time the target itself spends waiting (a suspend that
 * waits for a writeback asleep in its pause, a {@code message flush}) is not in these: the engine
 * waits it out in virtual time.
 *
 * <p>{@link #oracle()} holds the times measured on the oracle with ftrace: the guest's
 * {@code wcs.sh} wrote each op's start and end into the trace beside the target's functions
 * ({@code writecache_map}, {@code writecache_status}, {@code writecache_message}, {@code dm_suspend},
 * {@code writecache_resume}, {@code __dm_destroy}), over 15 scripts (13 stored scenarios, kernel
 * mutants 893 and 3337); the medians, in RELIABILITY.md ("Op time"). A {@code dmsetup} call reaches
 * the kernel about 45–55 ms after it starts, a {@code wcio} bio about 5 ms. {@code
 * tools/oracle-op-times.sh} measures them again (after a change to the oracle, or on another
 * machine). {@link #uniform(long)} is the model before: the same time before every op.
 */
public final class OpTiming {
    /** One op's times, in ms. */
    record Cost(long before, long after) {
    }

    private final String name;
    private final Cost dmsetup;
    private final Cost status;
    private final Cost create;
    private final Cost remove;
    private final long reloadGap;
    private final Cost smallIo;
    private final Cost largeIo;
    private final Cost dump;
    private final long sleepAfter;
    private final long settleFirstPoll;
    private final long settlePoll;
    private final long coldWcio;

    private OpTiming(String name, Cost dmsetup, Cost status, Cost create, Cost remove, long reloadGap, Cost smallIo,
            Cost largeIo, Cost dump, long sleepAfter, long settleFirstPoll, long settlePoll, long coldWcio) {
        this.name = name;
        this.dmsetup = dmsetup;
        this.status = status;
        this.create = create;
        this.remove = remove;
        this.reloadGap = reloadGap;
        this.smallIo = smallIo;
        this.largeIo = largeIo;
        this.dump = dump;
        this.sleepAfter = sleepAfter;
        this.settleFirstPoll = settleFirstPoll;
        this.settlePoll = settlePoll;
        this.coldWcio = coldWcio;
    }

    /** Sectors up to which a read, write or discard counts as small (wcio fills its buffer first). */
    static final long SMALL_IO_SECTORS = 64;

    /** The times measured on the oracle (the default). */
    public static OpTiming oracle() {
        return new OpTiming("oracle",
                new Cost(50, 15),      // suspend, resume, message: dmsetup's ioctl, then its exit
                new Cost(45, 7),       // status
                new Cost(110, 16),     // create: the table load, then the resume at its end
                new Cost(50, 40),      // remove: the device's suspend, then the destructor and exit
                105,                   // reload: from the old table's destructor to the new one's resume
                new Cost(5, 3),        // a bio of up to 64 sectors
                new Cost(14, 6),       // a larger one
                new Cost(15, 15),      // dump: reads the raw device, no target action
                5,                     // sleep MS: usleep, then the shell's next op
                55,                    // settle: its first status poll
                149,                   // settle: a status poll after a usleep of 100 ms (142-155)
                15);                   // the first wcio of a boot starts slower (26 ms, not 11, in 61 boots)
    }

    /**
     * {@code ms} before every op and nothing after (dmwc's model until session 32; 0: ops take
     * no time); a {@code settle} polls every 100 ms.
     */
    public static OpTiming uniform(long ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("op time must be 0 or more, not " + ms);
        }
        Cost c = new Cost(ms, 0);
        return new OpTiming(ms + " ms", c, c, c, c, 0, c, c, c, 0, 0, 100, 0);
    }

    /** The longest uniform op time {@link #parse} takes: a WCSCRIPT {@code sleep}'s longest. */
    static final long MAX_UNIFORM_MS = 600_000;

    /**
     * {@code oracle} or a number of milliseconds ({@link #uniform}), as {@code dmwc script
     * --op-time} takes it.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static OpTiming parse(String s) {
        if (s.equals("oracle")) {
            return oracle();
        }
        long ms;
        try {
            ms = Long.parseLong(s);
        } catch (NumberFormatException e) {
            ms = -1;
        }
        if (ms < 0 || ms > MAX_UNIFORM_MS) {
            throw new IllegalArgumentException("must be 'oracle' or a number of milliseconds (0 to " + MAX_UNIFORM_MS
                    + "), not '" + s + "'");
        }
        return uniform(ms);
    }

    /**
     * Time from the op's start to its action; {@code coldStart}: the op is the first of the boot
     * to start {@code wcio} (a read, write, flush, discard or dump), which takes longer to load.
     */
    long before(List<String> op, boolean coldStart) {
        return cost(op).before + (coldStart && startsWcio(op) ? coldWcio : 0);
    }

    /** Whether the oracle runs {@code op} with {@code wcio}. */
    static boolean startsWcio(List<String> op) {
        return switch (op.get(0)) {
            case "write", "read", "flush", "discard", "dump" -> true;
            default -> false;
        };
    }

    /** Time from the op's action to the next op's start. */
    long after(List<String> op) {
        return cost(op).after;
    }

    /** {@code reload}: from the old table's removal to the new one's resume. */
    long reloadGap() {
        return reloadGap;
    }

    /** {@code settle}: until its first status poll. */
    long settleFirstPoll() {
        return settleFirstPoll;
    }

    /** {@code settle}: from one status poll to the next. */
    long settlePoll() {
        return settlePoll;
    }

    private Cost cost(List<String> op) {
        switch (op.get(0)) {
            case "create":
                return create;
            case "remove":
            case "reload":
                return remove;
            case "suspend":
            case "resume":
            case "message":
                return dmsetup;
            case "status":
                return status;
            case "write":
            case "read":
            case "discard":
                return Long.parseLong(op.get(2)) <= SMALL_IO_SECTORS ? smallIo : largeIo;
            case "flush":
                return smallIo;
            case "dump":
                return dump;
            case "sleep":
                return new Cost(0, sleepAfter); // and the MS it sleeps
            case "settle":
                return new Cost(0, status.after); // and its polls: settleFirstPoll, settlePoll
            default:
                return new Cost(0, 0); // table, crash, device declarations
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
