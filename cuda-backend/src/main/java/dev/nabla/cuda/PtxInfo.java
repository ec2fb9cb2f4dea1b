package dev.nabla.cuda;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Facts about the shipped PTX: its bytes, its ISA version ({@code .version}) and the kernels it defines
 * ({@code .entry}), and the oldest driver that can JIT it.
 */
final class PtxInfo {
    private static final Pattern VERSION = Pattern.compile("^\\.version\\s+(\\d+)\\.(\\d+)", Pattern.MULTILINE);
    private static final Pattern ENTRY = Pattern.compile("^\\.visible\\s+\\.entry\\s+(\\w+)\\s*\\(", Pattern.MULTILINE);

    private PtxInfo() {
    }

    /** The {@code .version} of a PTX text as {@code major * 10 + minor} (ISA 9.0 is 90), or -1. */
    static int isaVersion(String ptx) {
        Matcher m = VERSION.matcher(ptx);
        return m.find() ? Integer.parseInt(m.group(1)) * 10 + Integer.parseInt(m.group(2)) : -1;
    }

    /** The kernel names a PTX text defines. */
    static List<String> entries(String ptx) {
        List<String> names = new ArrayList<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /**
     * The CUDA version (as the driver API reports it: 13000 for 13.0) whose driver first understands PTX ISA
     * {@code isa}, or -1 when unknown. ISA 9.0 came with CUDA 13.0 (Linux driver r580); 8.x with CUDA 12.x.
     */
    static int cudaVersionFor(int isa) {
        if (isa >= 90) {
            return 13000 + (isa - 90) * 10;
        }
        if (isa >= 80) {
            return 12000 + (isa - 80) * 10;
        }
        return -1;
    }

    /** The Linux driver branch shipped with a CUDA version, for messages. */
    static String driverBranchFor(int cudaVersion) {
        if (cudaVersion >= 13000) {
            return "r580";
        }
        if (cudaVersion >= 12000) {
            return "r525";
        }
        return "unknown";
    }

    static String isaText(int isa) {
        return isa / 10 + "." + isa % 10;
    }
}
