package dev.nabla.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * A kernel's launch arguments in signature order, typed as the host wrote them: the JCuda driver passes each as a
 * pointer to its value; the emulator checks each against the kernel's PTX {@code .param} list before packing them.
 */
final class KernelArgs {
    /** One argument: 8-byte (pointer, i64, f64), 4-byte (i32) or a StridedIter by value (33 longs). */
    sealed interface Arg permits Ptr, I64, I32, F64, Iter {
        int bytes();
    }

    record Ptr(long address) implements Arg {
        public int bytes() {
            return 8;
        }
    }

    record I64(long value) implements Arg {
        public int bytes() {
            return 8;
        }
    }

    record I32(int value) implements Arg {
        public int bytes() {
            return 4;
        }
    }

    record F64(double value) implements Arg {
        public int bytes() {
            return 8;
        }
    }

    record Iter(long[] packed) implements Arg {
        public int bytes() {
            return packed.length * 8;
        }
    }

    private final List<Arg> args = new ArrayList<>(10);

    void add(Arg a) {
        args.add(a);
    }

    List<Arg> list() {
        return args;
    }
}
