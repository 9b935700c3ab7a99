package coop.cli;

import java.util.List;
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

    /**
     * The model of {@code command}, a client command whose options are {@code options}: its name,
     * description and the standard help options besides; also set as the command's own spec.
     */
    static CommandSpec clientCommand(ClientCommand command, String name, List<OptionSpec> options,
            String... description) {
        CommandSpec spec = CommandSpec.wrapWithoutInspection(command).name(name);
        spec.usageMessage().description(description);
        addStandardHelpOptions(spec);
        // A loop, not options.forEach(spec::addOption): the archive cannot hold a class of picocli's
        // old class-file version once a method reference to it has been resolved at dump time.
        for (OptionSpec option : options) {
            spec.addOption(option);
        }
        command.spec = spec;
        return spec;
    }

    /** A boolean option that takes no value: false unless given. */
    static OptionSpec flag(String name, String description) {
        return OptionSpec.builder(name).type(boolean.class).initialValue(false).description(description).build();
    }
}
