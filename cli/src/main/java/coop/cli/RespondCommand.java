package coop.cli;

import coop.v1.Proposal;
import coop.v1.RespondRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop respond ID --file F}: the named member's answer to a removal proposal. */
@Command(name = "respond", mixinStandardHelpOptions = true,
        description = {"Answer a proposal to remove you: your signed response is recorded in the ledger and shown "
                + "beside the ballot (coop proposal ID).",
                "A removal is a hearing: it stays open its whole notice period (7 days at founding) even once "
                        + "everyone has voted. A later response replaces an earlier one.",
                "Example: coop respond 12 --file answer.txt"})
final class RespondCommand extends ClientCommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The removal proposal that names you.")
    long id;

    @Option(names = "--file", required = true, paramLabel = "FILE",
            description = "The response, as UTF-8 text (up to 8000 characters; '-' reads standard input).")
    String file;

    @Option(names = "--json", description = "Print the proposal after the response as JSON.")
    boolean json;

    @Override
    int run() {
        String text;
        try {
            text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new CliException("--file: cannot read " + file + ": " + e.getMessage());
        }
        Proposal p;
        try (Client c = client.connect()) {
            p = c.respond(RespondRequest.newBuilder().setProposalId(id).setText(text.strip()));
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(p));
            return 0;
        }
        out().println("response recorded on proposal " + p.getId() + " (" + p.getTitle() + ") at "
                + Times.iso(p.getRespondedAtMs()));
        return 0;
    }
}
