package coop.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the operator passed as {@code --gpus}: either {@code auto}, which asks the NVIDIA driver
 * through {@code nvidia-smi}, or a simulated node such as {@code sim:8xA100-80GB} or
 * {@code sim:2xA100-80GB,2xL4-24GB} for tests and demos. Parsing only checks the syntax;
 * {@link #resolve(NvidiaSmi)} produces the GPU list, so a bad spec fails before anything runs.
 */
public sealed interface GpuSpec {

    /** The form an operator has to type, quoted in every parse error. */
    String EXPECTED =
            "expected 'auto' or 'sim:NxMODEL[-MEMGB][,NxMODEL[-MEMGB]...]', e.g. sim:8xA100-80GB";

    /** The GPUs this spec stands for; only {@link Auto} runs {@code nvidia-smi}. */
    List<GpuDevice> resolve(NvidiaSmi nvidiaSmi);

    /** Parses the text of {@code --gpus}; throws {@link IllegalArgumentException} naming the flag. */
    static GpuSpec parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("--gpus: missing value; " + EXPECTED);
        }
        String spec = text.strip();
        if (spec.equalsIgnoreCase("auto")) {
            return new Auto();
        }
        if (!spec.regionMatches(true, 0, "sim:", 0, 4)) {
            throw new IllegalArgumentException("--gpus: cannot parse '" + text + "'; " + EXPECTED);
        }
        return Simulated.parseGroups(text, spec.substring(4));
    }

    /** {@code --gpus auto}: the GPUs the driver reports on this machine. */
    record Auto() implements GpuSpec {
        @Override
        public List<GpuDevice> resolve(NvidiaSmi nvidiaSmi) {
            return nvidiaSmi.query();
        }
    }

    /** {@code --gpus sim:...}: GPUs that exist only on paper, numbered 0..n-1 across groups. */
    record Simulated(List<GpuDevice> gpus) implements GpuSpec {

        // No '-' in a model: nvidia-smi models never have one (see NvidiaSmi.modelOf), and it keeps
        // "A100-80" from silently becoming a model named "A100-80" instead of an error.
        private static final Pattern GROUP =
                Pattern.compile("(\\d+)[xX]([A-Za-z0-9][A-Za-z0-9._]*)(?:-(\\d+)[gG][bB])?");

        /** Binary gigabytes, the way the vendors' "80GB" maps onto nvidia-smi's 81920 MiB. */
        private static final long MIB_PER_GB = 1024;

        /** Sanity bound: a typo such as {@code sim:800xA100} should fail, not allocate 800 GPUs. */
        private static final int MAX_GPUS = 1024;

        public Simulated {
            gpus = List.copyOf(Objects.requireNonNull(gpus, "gpus"));
        }

        @Override
        public List<GpuDevice> resolve(NvidiaSmi nvidiaSmi) {
            return gpus;
        }

        private static Simulated parseGroups(String original, String groups) {
            List<GpuDevice> gpus = new ArrayList<>();
            for (String group : groups.split(",", -1)) {
                Matcher m = GROUP.matcher(group.strip());
                if (!m.matches()) {
                    throw new IllegalArgumentException(
                            "--gpus: cannot parse group '" + group + "' in '" + original + "'; " + EXPECTED);
                }
                int count;
                long memoryMib;
                try {
                    count = Integer.parseInt(m.group(1));
                    memoryMib = m.group(3) == null ? 0 : Math.multiplyExact(Long.parseLong(m.group(3)), MIB_PER_GB);
                } catch (NumberFormatException | ArithmeticException e) {
                    throw new IllegalArgumentException(
                            "--gpus: number out of range in '" + group + "'; " + EXPECTED, e);
                }
                if (count < 1 || gpus.size() + count > MAX_GPUS) {
                    throw new IllegalArgumentException(
                            "--gpus: GPU count must be between 1 and " + MAX_GPUS + " in total, got '"
                                    + original + "'; " + EXPECTED);
                }
                String model = m.group(2);
                for (int i = 0; i < count; i++) {
                    gpus.add(new GpuDevice(gpus.size(), "", model, memoryMib));
                }
            }
            return new Simulated(gpus);
        }
    }
}
