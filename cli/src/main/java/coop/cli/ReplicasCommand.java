package coop.cli;

import coop.v1.ReplicaStatus;
import coop.v1.ReplicasRequest;
import coop.v1.ReplicasResponse;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop replicas}: the scheduler's replicas as the leader sees them. */
@Command(name = "replicas", mixinStandardHelpOptions = true,
        description = {"Show the scheduler's replicas (a cooperative founded with coop init --replicas): each one's "
                + "role, the term of its last log entry, its commit and apply index, its latest snapshot, and how "
                + "far it lags the leader's commit. A replica that does not answer is shown unreachable, with why."})
final class ReplicasCommand extends ClientCommand {

    @Option(names = "--json", description = "Print the replicas as JSON.")
    boolean json;

    @Override
    int run() {
        ReplicasResponse r;
        try (Client c = client.connect()) {
            r = c.admin().replicas(ReplicasRequest.getDefaultInstance());
        }
        if (json) {
            var o = JsonOutput.object();
            o.put("replicated", r.getReplicated());
            o.put("leader", r.getLeader());
            o.set("replicas", JsonOutput.array(r.getReplicasList(), s -> {
                var n = JsonOutput.object();
                n.put("id", s.getId());
                n.put("address", s.getAddress());
                n.put("role", s.getRole());
                n.put("term", s.getTerm());
                n.put("commit_index", s.getCommitIndex());
                n.put("applied_index", s.getAppliedIndex());
                n.put("snapshot_index", s.getSnapshotIndex());
                n.put("lag", s.getLag());
                n.put("error", s.getError());
                return n;
            }));
            JsonOutput.print(out(), o);
            return 0;
        }
        if (!r.getReplicated()) {
            out().println("this cooperative has one scheduler (founded without --replicas)");
            return 0;
        }
        Table table = new Table("REPLICA", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "SNAPSHOT", "LAG");
        for (ReplicaStatus s : r.getReplicasList()) {
            boolean down = s.getRole().equals("unreachable");
            table.row(s.getId(), s.getAddress(), s.getRole(), down ? "-" : Long.toString(s.getTerm()),
                    down ? "-" : Long.toString(s.getCommitIndex()), down ? "-" : Long.toString(s.getAppliedIndex()),
                    down ? "-" : Long.toString(s.getSnapshotIndex()), down ? "-" : Long.toString(s.getLag()));
        }
        table.print(out());
        for (ReplicaStatus s : r.getReplicasList()) {
            if (!s.getError().isEmpty()) {
                out().println(s.getId() + ": " + s.getError());
            }
        }
        return 0;
    }
}
