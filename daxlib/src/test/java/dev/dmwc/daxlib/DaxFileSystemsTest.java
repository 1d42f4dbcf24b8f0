package dev.dmwc.daxlib;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class DaxFileSystemsTest {
    @Test
    void theMountsWithDaxAreFoundWhateverTheFormOfTheOption() {
        String mounts = String.join("\n",
                "/dev/vda1 / ext4 rw,relatime 0 0",
                "/dev/pmem0 /mnt/pmem ext4 rw,relatime,dax=always 0 0",
                "/dev/pmem1 /mnt/my\\040pmem xfs rw,noatime,attr2,dax,inode64 0 0",
                "/dev/pmem2 /mnt/per-file ext4 rw,dax=inode 0 0",
                "/dev/pmem3 /mnt/off ext4 rw,dax=never 0 0",
                "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0",
                "/dev/sdb1 /data/daxed ext4 rw,relatime 0 0",
                "short line",
                "");
        assertEquals(List.of(new DaxFileSystems.Mount("/mnt/pmem", "ext4", "/dev/pmem0", "dax=always"),
                new DaxFileSystems.Mount("/mnt/my pmem", "xfs", "/dev/pmem1", "dax"),
                new DaxFileSystems.Mount("/mnt/per-file", "ext4", "/dev/pmem2", "dax=inode")), DaxFileSystems.parse(mounts));
        assertEquals("/mnt/pmem (ext4 on /dev/pmem0, dax=always)", DaxFileSystems.parse(mounts).get(0).describe());
    }
}
