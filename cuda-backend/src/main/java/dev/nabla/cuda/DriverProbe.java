package dev.nabla.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Loads JCuda and initializes the CUDA driver once per JVM, unless {@link DriverPresence} shows from the file system
 * alone that there is no driver (then no native code loads at all). It never throws: a missing JNI library, a
 * missing {@code libcuda.so.1}, a driver without devices all become an unusable result with a one-line reason.
 */
final class DriverProbe {
    /** What the probe found. */
    record Result(boolean usable, String reason, int driverVersion, int deviceCount) {
    }

    private static volatile Result result;

    private DriverProbe() {
    }

    /** The probe's result, computed on first use. */
    static Result result() {
        Result r = result;
        if (r == null) {
            synchronized (DriverProbe.class) {
                r = result;
                if (r == null) {
                    r = probe();
                    result = r;
                }
            }
        }
        return r;
    }

    private static Result probe() {
        java.util.Optional<String> absent = DriverPresence.absence();
        if (absent.isPresent()) {
            return new Result(false, absent.get(), -1, 0);
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
            int init = JCudaDriver.cuInit(0);
            if (init != CUresult.CUDA_SUCCESS) {
                return new Result(false, "cuInit failed: " + CudaCalls.errorName(init) + initHint(init), -1, 0);
            }
            int[] version = new int[1];
            CudaCalls.check(JCudaDriver.cuDriverGetVersion(version), "cuDriverGetVersion");
            int[] count = new int[1];
            CudaCalls.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
            String driver = "driver API " + versionText(version[0]);
            if (count[0] == 0) {
                return new Result(false, "the NVIDIA driver (" + driver + ") sees no CUDA device", version[0], 0);
            }
            return new Result(true, count[0] + " CUDA device(s), " + driver, version[0], count[0]);
        } catch (Throwable t) { // NOTE: deliberately everything: UnsatisfiedLinkError, NoClassDefFoundError, ...
            return new Result(false, describeLoadFailure(t), -1, 0);
        }
    }

    private static String initHint(int code) {
        return switch (code) {
            case CUresult.CUDA_ERROR_NO_DEVICE -> " (no CUDA-capable device is visible: check CUDA_VISIBLE_DEVICES)";
            case CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH -> " (libcuda.so.1 and the NVIDIA kernel module are of different versions)";
            default -> "";
        };
    }

    /** A one-line reason for a failure to load JCuda or the driver library. */
    static String describeLoadFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage());
            if (m.contains("libcuda.so")) {
                return "no NVIDIA driver: libcuda.so.1 could not be loaded (" + lineWith(m, "libcuda.so").strip() + ")";
            }
        }
        if (t instanceof NoClassDefFoundError && String.valueOf(t.getMessage()).contains("jcuda")) {
            return "JCuda (org.jcuda:jcuda) is not on the class path";
        }
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return "the JCuda driver binding could not load: " + root.getClass().getSimpleName() + ": "
                + firstLine(String.valueOf(root.getMessage()));
    }

    private static String lineWith(String s, String needle) {
        for (String line : s.split("\n")) {
            if (line.contains(needle)) {
                return line;
            }
        }
        return firstLine(s);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** {@code 13000} as {@code 13.0}. */
    static String versionText(int version) {
        return version / 1000 + "." + (version % 1000) / 10;
    }
}
