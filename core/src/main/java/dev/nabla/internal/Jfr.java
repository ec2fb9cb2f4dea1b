package dev.nabla.internal;

/**
 * Whether this runtime has Flight Recorder's module. A runtime made with jlink for a class-path application may
 * leave jdk.jfr out (the first GPU check's did): then no event class may load, or the first op or allocation fails
 * with NoClassDefFoundError. So {@code dev.nabla.ops.OpEvents} and {@code dev.nabla.backend.MemoryEvents} keep
 * their events in holder classes that load only when {@link #PRESENT} is true; it is a constant, so the JIT folds
 * the test away.
 */
public final class Jfr {
    /** True where the boot layer holds jdk.jfr. */
    public static final boolean PRESENT = ModuleLayer.boot().findModule("jdk.jfr").isPresent();

    private Jfr() {
    }
}
