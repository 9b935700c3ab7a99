package coop.bench;

import picocli.CommandLine.Option;

/**
 * The options every {@code coop bench} command takes ({@code @Mixin}): how it prints its
 * {@link BenchReport}.
 */
final class BenchOptions {
    @Option(names = "--json", description = "Print one JSON object instead of text (progress goes to stderr).")
    boolean json;
}
