package coop.cli;

import java.util.List;

/**
 * Subcommands that a module built on this one adds to {@code coop}: the bench module's demo and
 * benchmarks. {@link Main} finds them with {@link java.util.ServiceLoader} in the jar that runs,
 * since this module cannot name them (they depend on it); without them on the class path
 * {@code coop} is the product's commands alone.
 */
public interface LabCommands {

    /** Annotated picocli command classes, in the order {@code coop --help} lists them. */
    List<Class<?>> commands();
}
