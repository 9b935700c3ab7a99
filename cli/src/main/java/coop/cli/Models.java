package coop.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Pieces for the picocli models built in code rather than read from annotations ({@link Main},
 * {@link SubmitCommand}, {@link JobsCommand}): the same options picocli's annotations give.
 */
final class Models {

    private Models() {
    }

    /**
     * Adds what picocli's {@code mixinStandardHelpOptions} adds, {@code -h, --help} and
     * {@code -V, --version}, built in code rather than from picocli's annotated mixin.
     */
    static void addStandardHelpOptions(CommandSpec spec) {
        spec.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .description("Show this help message and exit.").build());
        spec.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .description("Print version information and exit.").build());
    }

    /** A boolean option that takes no value: false unless given. */
    static OptionSpec flag(String name, String description) {
        return OptionSpec.builder(name).type(boolean.class).initialValue(false).description(description).build();
    }
}
