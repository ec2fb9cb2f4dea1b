package dev.nabla.cuda;

import dev.nabla.MemoryStats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nabla.Device;
import dev.nabla.OutOfDeviceMemoryException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The caching policy against a fake device: size classes, reuse, statistics, and the out-of-memory path. */
class CachingAllocatorTest {
    /** A device of {@code capacity} bytes that records every driver call. */
    static final class FakeDevice implements DeviceMemory {
        final long capacity;
        long used;
        long nextAddress = 0x7000_0000_0000L;
        final Map<Long, Long> live = new HashMap<>();
        int allocations;
        int frees;

        FakeDevice(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long allocate(long bytes) {
            if (used + bytes > capacity) {
                return 0;
            }
            allocations++;
            used += bytes;
            long a = nextAddress;
            nextAddress += bytes;
            live.put(a, bytes);
            return a;
        }

        @Override
        public void free(long address) {
            frees++;
            used -= live.remove(address);
        }

        @Override
        public long freeBytes() {
            return capacity - used;
        }
    }

    private static final Device DEVICE = Device.cuda(0);

    @Test
    void sizeClassesAreQuarterStepsOfPowersOfTwoInMultiplesOf512() {
        assertEquals(512, CachingAllocator.sizeClass(1));
        assertEquals(512, CachingAllocator.sizeClass(512));
        assertEquals(1024, CachingAllocator.sizeClass(513));
        assertEquals(5120, CachingAllocator.sizeClass(4097)); // 4096 < 4097 <= 8192: steps of 1024
        assertEquals(1 << 20, CachingAllocator.sizeClass(1 << 20));
        assertEquals((1 << 20) + (1 << 18), CachingAllocator.sizeClass((1 << 20) + 1));
        for (long bytes = 1; bytes < 10_000_000; bytes = bytes * 3 + 7) {
            long c = CachingAllocator.sizeClass(bytes);
            assertTrue(c >= bytes && c % 512 == 0, bytes + " -> " + c);
            assertTrue(bytes <= 512 || c <= bytes * 1.25 + 512, "waste bounded for " + bytes + " -> " + c);
        }
    }

    @Test
    void freedBlocksAreReusedWithoutDriverCalls() {
        FakeDevice dev = new FakeDevice(1 << 30);
        CachingAllocator alloc = new CachingAllocator(DEVICE, dev, () -> { });
        CachingAllocator.Block a = alloc.allocate(1000);
        alloc.free(a);
        CachingAllocator.Block b = alloc.allocate(900); // same class (1024)
        assertEquals(a.address(), b.address());
        assertEquals(1, dev.allocations);
        assertEquals(0, dev.frees);
        CachingAllocator.Block c = alloc.allocate(5000); // another class: a new block
        assertNotEquals(b.address(), c.address());
        assertEquals(2, dev.allocations);
    }

    @Test
    void statisticsTrackAllocatedReservedAndPeak() {
        FakeDevice dev = new FakeDevice(1 << 30);
        CachingAllocator alloc = new CachingAllocator(DEVICE, dev, () -> { });
        CachingAllocator.Block a = alloc.allocate(1 << 20);
        CachingAllocator.Block b = alloc.allocate(1 << 20);
        assertEquals(new MemoryStats(2 << 20, 2 << 20, 2 << 20, 2), alloc.stats());
        alloc.free(a);
        assertEquals(new MemoryStats(1 << 20, 2 << 20, 2 << 20, 1), alloc.stats());
        alloc.releaseCache();
        assertEquals(new MemoryStats(1 << 20, 1 << 20, 2 << 20, 1), alloc.stats());
        assertEquals(1, dev.frees);
        alloc.free(b);
        assertEquals(0, alloc.stats().allocated());
    }

    @Test
    void outOfMemoryFreesTheCacheThenReclaimsThenRetries() {
        FakeDevice dev = new FakeDevice(4096);
        List<CachingAllocator.Block> unreachable = new ArrayList<>();
        CachingAllocator[] holder = new CachingAllocator[1];
        int[] reclaims = {0};
        // the reclaimer plays the Cleaners of unreachable tensors: it frees what the "GC" found
        holder[0] = new CachingAllocator(DEVICE, dev, () -> {
            reclaims[0]++;
            unreachable.forEach(holder[0]::free);
            unreachable.clear();
        });
        CachingAllocator alloc = holder[0];
        CachingAllocator.Block cached = alloc.allocate(1024);
        alloc.free(cached); // 1024 cached in the wrong class for what follows
        unreachable.add(alloc.allocate(2048)); // held by an unreachable tensor
        CachingAllocator.Block big = alloc.allocate(3072); // needs the cache emptied and the reclaim
        assertEquals(1, reclaims[0]);
        assertEquals(3072, big.bytes());
    }

    @Test
    void outOfMemoryAfterTheRetryNamesRequestedAndAvailableBytes() {
        FakeDevice dev = new FakeDevice(4096);
        CachingAllocator alloc = new CachingAllocator(DEVICE, dev, () -> { });
        alloc.allocate(2048);
        OutOfDeviceMemoryException e = assertThrows(OutOfDeviceMemoryException.class, () -> alloc.allocate(3000));
        assertEquals(3000, e.requestedBytes());
        assertEquals(2048, e.availableBytes());
        assertTrue(e.getMessage().contains("cuda:0"), e.getMessage());
    }
}
