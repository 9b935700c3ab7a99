package coop.bench;

import coop.cli.LabCommands;
import java.util.List;

/** The lab's subcommands of {@code coop}: {@code demo} and {@code bench}. */
public final class Lab implements LabCommands {

    @Override
    public List<Class<?>> commands() {
        return List.of(DemoCommand.class, BenchCommand.class);
    }
}
