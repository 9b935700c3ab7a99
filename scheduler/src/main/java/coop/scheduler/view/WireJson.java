package coop.scheduler.view;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import coop.scheduler.audit.LedgerVerifier;
import coop.v1.AccountShare;
import coop.v1.AccountUsage;
import coop.v1.Attempt;
import coop.v1.Ballot;
import coop.v1.Gpu;
import coop.v1.GpuUsage;
import coop.v1.Job;
import coop.v1.NodeInfo;
import coop.v1.Placement;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.Tally;
import coop.v1.UsageResponse;
import java.io.IOException;
import java.util.List;
import java.util.function.Function;

/**
 * The JSON form of each wire message, one mapping for everyone who shows them: the CLI's
 * {@code --json} and the dashboard's {@code /api/v1/} both print these, so the two shapes are
 * the same by construction. Plain JSON objects whose snake_case keys are the proto field names,
 * enums by their proto names, times as epoch milliseconds (0 when unset). Every field is present,
 * defaults included, so scripts see a stable shape. Lists are JSON arrays.
 */
public final class WireJson {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private WireJson() {
    }

    public static <T> ArrayNode array(List<T> items, Function<T, JsonNode> mapper) {
        ArrayNode array = NODES.arrayNode();
        items.forEach(item -> array.add(mapper.apply(item)));
        return array;
    }

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    public static ObjectNode job(Job job) {
        ObjectNode o = object();
        o.put("id", job.getId());
        o.put("name", job.getName());
        o.put("account", job.getAccount());
        o.put("member", job.getMember());
        o.put("gpus_per_node", job.getGpusPerNode());
        o.put("nodes", job.getNodes());
        o.put("gpu_model", job.getGpuModel());
        o.put("walltime_seconds", job.getWalltimeSeconds());
        o.put("command", job.getCommand());
        o.put("command_withheld", job.getCommandWithheld());
        o.put("priority", job.getPriority());
        o.put("state", job.getState().name());
        o.put("submitted_at_ms", job.getSubmittedAtMs());
        o.set("attempts", array(job.getAttemptsList(), WireJson::attempt));
        o.put("why_pending", job.getWhyPending());
        o.put("cross_site", job.getCrossSite());
        o.put("finished_at_ms", job.getFinishedAtMs());
        o.put("no_preempt", job.getNoPreempt());
        o.put("purpose", job.getPurpose());
        o.put("array_id", job.getArrayId());
        o.put("array_index", job.getArrayIndex());
        o.put("end_reason", job.getEndReason());
        o.put("signal", job.getSignal());
        o.put("requeue_on_timeout", job.getRequeueOnTimeout());
        o.put("expected_start_ms", job.getExpectedStartMs());
        o.put("chdir", job.getChdir());
        ArrayNode envNames = o.putArray("env_names");
        job.getEnvNamesList().forEach(envNames::add);
        o.put("container", job.getContainer());
        ArrayNode mounts = o.putArray("mounts");
        for (coop.v1.JobMount m : job.getMountsList()) {
            mounts.addObject().put("source", m.getSource()).put("destination", m.getDestination())
                    .put("read_only", m.getReadOnly());
        }
        o.put("workdir", job.getWorkdir());
        o.put("dependency", job.getDependency());
        o.put("notify", job.getNotify());
        o.put("notify_to", job.getNotifyTo());
        o.put("mem_mb", job.getMemMb());
        o.put("output", job.getOutput());
        o.put("error", job.getError());
        return o;
    }

    /** An array as one entry: what its tasks share, its index range, and its tasks counted by state. */
    public static ObjectNode jobArray(coop.v1.JobArray a) {
        ObjectNode o = object();
        o.put("array_id", a.getId());
        o.put("name", a.getName());
        o.put("account", a.getAccount());
        o.put("member", a.getMember());
        o.put("gpus_per_node", a.getGpusPerNode());
        o.put("nodes", a.getNodes());
        o.put("command", a.getCommand());
        o.put("command_withheld", a.getCommandWithheld());
        o.put("submitted_at_ms", a.getSubmittedAtMs());
        o.put("finished_at_ms", a.getFinishedAtMs());
        o.put("tasks", a.getTasks());
        o.put("first_index", a.getFirstIndex());
        o.put("last_index", a.getLastIndex());
        o.put("max_running", a.getMaxRunning());
        ObjectNode counts = o.putObject("counts");
        a.getCountsList().forEach(c -> counts.put(c.getState().name(), c.getCount()));
        return o;
    }

    public static ObjectNode attempt(Attempt attempt) {
        ObjectNode o = object();
        o.put("number", attempt.getNumber());
        o.put("started_at_ms", attempt.getStartedAtMs());
        o.put("finished_at_ms", attempt.getFinishedAtMs());
        o.set("placements", array(attempt.getPlacementsList(), WireJson::placement));
        o.put("exit_code", attempt.getExitCode());
        o.put("outcome", attempt.getOutcome());
        o.put("gpus", attempt.getGpus());
        o.put("borrowed", attempt.getBorrowed());
        o.put("checkpoint_site", attempt.getCheckpointSite());
        return o;
    }

    public static ObjectNode placement(Placement placement) {
        ObjectNode o = object();
        o.put("node", placement.getNode());
        o.put("site", placement.getSite());
        ArrayNode indices = o.putArray("gpu_indices");
        placement.getGpuIndicesList().forEach(indices::add);
        o.put("gpu_model", placement.getGpuModel());
        return o;
    }

    public static ObjectNode node(NodeInfo node) {
        ObjectNode o = object();
        o.put("name", node.getName());
        o.put("site", node.getSite());
        o.set("gpus", array(node.getGpusList(), WireJson::gpu));
        o.put("state", node.getState());
        o.put("last_heartbeat_ms", node.getLastHeartbeatMs());
        ArrayNode busy = o.putArray("busy_gpu_indices");
        node.getBusyGpuIndicesList().forEach(busy::add);
        ArrayNode jobs = o.putArray("running_job_ids");
        node.getRunningJobIdsList().forEach(jobs::add);
        o.put("account", node.getAccount());
        o.put("draining", node.getDraining());
        o.put("drain_reason", node.getDrainReason());
        o.put("health_drain", node.getHealthDrain());
        o.put("operator_drain", node.getOperatorDrain());
        o.put("isolation", node.getIsolation());
        ArrayNode runtimes = o.putArray("container_runtimes");
        node.getContainerRuntimesList().forEach(runtimes::add);
        ArrayNode allowed = o.putArray("allowed_mounts");
        node.getAllowedMountsList().forEach(allowed::add);
        o.put("memory_per_gpu_mib", node.getMemoryPerGpuMib());
        o.put("reserved_gpus", node.getReservedGpus());
        ArrayNode windows = o.putArray("windows");
        node.getWindowsList().forEach(windows::add);
        o.put("time_zone", node.getTimeZone());
        o.put("offered", node.getOffered());
        o.put("window_change_ms", node.getWindowChangeMs());
        o.set("gpu_usage", array(node.getGpuUsageList(), WireJson::gpuUsage));
        o.put("heartbeat_lag_ms", node.getHeartbeatLagMs());
        ArrayNode refused = o.putArray("refused_purposes");
        node.getRefusedPurposesList().forEach(refused::add);
        return o;
    }

    /** A value the driver did not state is null, never 0: an idle GPU and an unknown one differ. */
    public static ObjectNode gpuUsage(GpuUsage usage) {
        ObjectNode o = object();
        o.put("index", usage.getIndex());
        if (usage.hasUtilizationPct()) {
            o.put("utilization_pct", usage.getUtilizationPct());
        } else {
            o.putNull("utilization_pct");
        }
        if (usage.hasMemoryUsedMib()) {
            o.put("memory_used_mib", usage.getMemoryUsedMib());
        } else {
            o.putNull("memory_used_mib");
        }
        return o;
    }

    public static ObjectNode gpu(Gpu gpu) {
        ObjectNode o = object();
        o.put("index", gpu.getIndex());
        o.put("model", gpu.getModel());
        o.put("memory_mib", gpu.getMemoryMib());
        return o;
    }

    public static ObjectNode share(AccountShare share) {
        ObjectNode o = object();
        o.put("account", share.getAccount());
        o.put("basis_points", share.getBasisPoints());
        return o;
    }

    public static ObjectNode proposal(Proposal proposal) {
        ObjectNode o = object();
        o.put("id", proposal.getId());
        o.put("title", proposal.getTitle());
        o.put("proposer", proposal.getProposer());
        o.put("kind", proposal.getKind());
        o.set("change", parsed(proposal.getChangeJson()));
        o.set("eligible", array(proposal.getEligibleList(), TextNode::valueOf));
        o.set("result", array(proposal.getResultList(), WireJson::share));
        if (proposal.hasShares() && proposal.getShares().getSharesCount() > 0) {
            o.putObject("shares").set("shares", array(proposal.getShares().getSharesList(), WireJson::share));
        } else {
            o.putNull("shares");
        }
        o.put("opened_at_ms", proposal.getOpenedAtMs());
        o.put("closes_at_ms", proposal.getClosesAtMs());
        o.put("state", proposal.getState().name());
        o.put("rule", proposal.getRule());
        o.set("tally", tally(proposal.getTally()));
        o.set("ballots", array(proposal.getBallotsList(), WireJson::ballot));
        o.put("enacted_policy_version", proposal.getEnactedPolicyVersion());
        o.put("closed_at_ms", proposal.getClosedAtMs());
        o.put("outcome", proposal.getOutcome());
        o.put("response", proposal.getResponse());
        o.put("responded_at_ms", proposal.getRespondedAtMs());
        return o;
    }

    /** Embeds a JSON text the scheduler sent (canonical statements, parameters) as JSON, not as a string. */
    public static JsonNode parsed(String json) {
        if (json == null || json.isEmpty()) {
            return NullNode.getInstance();
        }
        try {
            return MAPPER.readTree(json);
        } catch (IOException e) {
            return TextNode.valueOf(json);
        }
    }

    public static ObjectNode tally(Tally tally) {
        ObjectNode o = object();
        o.put("yes", tally.getYes());
        o.put("no", tally.getNo());
        o.put("abstain", tally.getAbstain());
        o.put("eligible", tally.getEligible());
        o.put("direct", tally.getDirect());
        o.put("delegated", tally.getDelegated());
        o.put("capped", tally.getCapped());
        return o;
    }

    public static ObjectNode ballot(Ballot ballot) {
        ObjectNode o = object();
        o.put("member", ballot.getMember());
        o.put("choice", ballot.getSplitCount() > 0 ? "SPLIT" : ballot.getChoice().name());
        o.put("cast_at_ms", ballot.getCastAtMs());
        if (ballot.getSplitCount() > 0) {
            o.set("split", array(ballot.getSplitList(), WireJson::share));
        }
        return o;
    }

    public static ObjectNode policy(Policy policy) {
        ObjectNode o = object();
        o.put("version", policy.getVersion());
        o.set("shares", array(policy.getSharesList(), WireJson::share));
        o.put("enacted_at_ms", policy.getEnactedAtMs());
        o.put("proposal_id", policy.getProposalId());
        o.set("params", parsed(policy.getParamsJson()));
        o.set("constitution", parsed(policy.getConstitutionJson()));
        o.put("shares_since_ms", policy.getSharesSinceMs());
        return o;
    }

    public static ObjectNode usage(UsageResponse usage) {
        ObjectNode o = object();
        o.put("policy_version", usage.getPolicyVersion());
        o.put("window_start_ms", usage.getWindowStartMs());
        o.put("window_end_ms", usage.getWindowEndMs());
        o.set("accounts", array(usage.getAccountsList(), WireJson::accountUsage));
        o.put("gpus_online", usage.getGpusOnline());
        o.put("gpus_busy", usage.getGpusBusy());
        ArrayNode verdicts = o.putArray("verdicts");
        for (var v : usage.getVerdictsList()) {
            verdicts.addObject().put("stretch", v.getStretch()).put("from_ms", v.getFromMs())
                    .put("verdict", v.getVerdict()).put("worst_gap_pp", v.getWorstGapPp());
        }
        o.put("verdict_rule", usage.getVerdictRule());
        return o;
    }

    public static ObjectNode accountUsage(AccountUsage usage) {
        ObjectNode o = object();
        o.put("account", usage.getAccount());
        o.put("entitled_basis_points", usage.getEntitledBasisPoints());
        o.put("achieved_percent", usage.getAchievedPercent());
        o.put("gpu_seconds", usage.getGpuSeconds());
        o.put("running_jobs", usage.getRunningJobs());
        o.put("running_gpus", usage.getRunningGpus());
        o.put("pending_jobs", usage.getPendingJobs());
        o.put("total_gpu_seconds", usage.getTotalGpuSeconds());
        ArrayNode windows = o.putArray("windows");
        for (var w : usage.getWindowsList()) {
            windows.addObject().put("stretch", w.getStretch()).put("from_ms", w.getFromMs())
                    .put("voted_percent", w.getVotedPercent()).put("achieved_percent", w.getAchievedPercent())
                    .put("gpu_seconds", w.getGpuSeconds()).put("waited", w.getWaited()).put("gap_pp", w.getGapPp())
                    .put("verdict", w.getVerdict());
        }
        o.put("preemptions", usage.getPreemptions());
        o.put("preempted_gpu_seconds", usage.getPreemptedGpuSeconds());
        o.put("max_job_preemptions", usage.getMaxJobPreemptions());
        return o;
    }


    /**
     * A ledger verification, as {@code coop ledger verify --json} prints it: the counts, the head,
     * GPU-hours per account, and the first bad entry when there is one.
     */
    public static ObjectNode ledgerReport(LedgerVerifier.Report r, long entries) {
        ObjectNode o = object();
        o.put("ok", r.ok());
        o.put("entries", entries);
        o.put("head", r.head());
        o.put("proposals", r.proposals());
        o.put("ballots", r.ballots());
        o.put("closes", r.closes());
        o.put("policies_enacted", r.policies());
        o.put("panels", r.panels());
        o.put("reviews", r.reviews());
        o.put("attempts", r.attempts());
        ObjectNode hours = o.putObject("gpu_hours");
        r.gpuMillisByAccount().forEach((a, ms) -> hours.put(a, ms / 3_600_000.0));
        if (!r.ok()) {
            o.put("bad_entry", r.badSeq());
            o.put("problem", r.problem());
        }
        return o;
    }
}
