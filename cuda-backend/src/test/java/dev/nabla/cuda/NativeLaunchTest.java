package dev.nabla.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The argument block {@link NativeLaunch} hands to {@code cuLaunchKernel}, checked without a GPU: the driver reads
 * the i-th pointer of the table and copies as many bytes as the kernel's i-th parameter has from there, so every
 * pointer must land on its own value, 8-byte aligned, inside the block, with no two values overlapping.
 */
class NativeLaunchTest {
    @Test
    void everyPointerOfTheTableLeadsToItsValue() {
        Random r = new Random(11);
        long[] iter = new long[33];
        for (int i = 0; i < iter.length; i++) {
            iter[i] = r.nextLong();
        }
        KernelArgs args = new KernelArgs();
        args.add(new KernelArgs.Ptr(0x7f00_1234_5670L));
        args.add(new KernelArgs.I32(-7));
        args.add(new KernelArgs.I64(1L << 40));
        args.add(new KernelArgs.I32(3));
        args.add(new KernelArgs.Iter(iter));
        args.add(new KernelArgs.F64(-2.5));
        args.add(new KernelArgs.Ptr(0x10L));
        long bytes = NativeLaunch.blockBytes(args);
        assertEquals(7 * 8 + 8 + 8 + 8 + 8 + 33 * 8 + 8 + 8, bytes);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment block = arena.allocate(bytes, 16);
            NativeLaunch.write(block, args);
            long[] at = new long[7];
            for (int i = 0; i < at.length; i++) {
                at[i] = block.get(JAVA_LONG, 8L * i) - block.address();
                assertEquals(0, at[i] % 8, "argument " + i + " is 8-byte aligned");
                assertTrue(at[i] >= 8L * at.length && at[i] < bytes, "argument " + i + " lies after the table");
                if (i > 0) {
                    assertTrue(at[i] >= at[i - 1] + Math.max(8, args.list().get(i - 1).bytes()),
                            "argument " + i + " does not overlap argument " + (i - 1));
                }
            }
            assertEquals(0x7f00_1234_5670L, block.get(JAVA_LONG, at[0]));
            assertEquals(-7, block.get(JAVA_INT, at[1]));
            assertEquals(1L << 40, block.get(JAVA_LONG, at[2]));
            assertEquals(3, block.get(JAVA_INT, at[3]));
            long[] copied = new long[33];
            MemorySegment.copy(block, JAVA_LONG, at[4], copied, 0, copied.length);
            assertArrayEquals(iter, copied);
            assertEquals(-2.5, block.get(JAVA_DOUBLE, at[5]));
            assertEquals(0x10L, block.get(JAVA_LONG, at[6]));
            assertTrue(at[6] + 8 <= bytes, "the last value fits the block");
        }
    }

    @Test
    void noArgumentsNeedNoBytes() {
        assertEquals(0, NativeLaunch.blockBytes(new KernelArgs()));
    }
}
