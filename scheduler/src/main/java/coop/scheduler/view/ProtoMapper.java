package coop.scheduler.view;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.JobVisibility;
import coop.scheduler.domain.Placement;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.engine.Accounting;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.NodeRegistry;
import coop.scheduler.ledger.Canonical;
import coop.v1.AccountShare;
import coop.v1.AccountUsage;
import coop.v1.Gpu;
import coop.v1.NodeInfo;
import coop.v1.SharesChange;
import coop.v1.Tally;
import coop.v1.UsageResponse;
import java.util.List;
import java.util.Map;

/** Domain records to wire messages. Proto types stay at this edge. */
public final class ProtoMapper {
    private ProtoMapper() {
    }

    /** A job as {@code reader} may see it, with when it is expected to start (0: no reservation says). */
    public static coop.v1.Job job(Job j, String whyPending, long expectedStartMs, JobVisibility reader) {
        return job(j, whyPending, reader).toBuilder().setExpectedStartMs(expectedStartMs).build();
    }

    /** A job as {@code reader} may see it: its command only where {@link JobVisibility} grants it. */
    public static coop.v1.Job job(Job j, String whyPending, JobVisibility reader) {
        boolean shown = reader.mayRead(j);
        coop.v1.Job.Builder b = coop.v1.Job.newBuilder()
                .setId(j.id()).setName(j.name()).setAccount(j.account()).setMember(j.member())
                .setGpusPerNode(j.gpusPerNode()).setNodes(j.nodes()).setGpuModel(j.gpuModel())
                .setWalltimeSeconds(j.walltimeSeconds()).setCommand(shown ? j.command() : "")
                .setCommandWithheld(!shown).setPriority(j.priority())
                .setState(state(j.state())).setSubmittedAtMs(j.submittedAt()).setFinishedAtMs(j.finishedAt())
                .setCrossSite(j.crossSite()).setNoPreempt(j.noPreempt()).setPurpose(j.purpose())
                .setArrayId(j.arrayId()).setArrayIndex(j.arrayIndex()).setEndReason(j.endReason())
                .setSignal(j.stop().text()).setRequeueOnTimeout(j.stop().requeueOnTimeout())
                .setWhyPending(j.state() == JobState.PENDING || j.state() == JobState.REVIEW ? whyPending : "");
        if (shown) {
            // The folder and the variables' names say as much about the work as its command.
            b.setChdir(j.chdir()).addAllEnvNames(j.env().keySet()).setContainer(j.container().image())
                    .addAllMounts(mounts(j.container())).setWorkdir(j.workdir());
            JobOptions o = j.options();
            b.setDependency(o.dependency()).setNotify(o.notifyOn()).setNotifyTo(o.notifyTo()).setMemMb(o.memMb())
                    .setOutput(o.output()).setError(o.error());
        }
        for (Attempt a : j.attempts()) {
            coop.v1.Attempt.Builder ab = coop.v1.Attempt.newBuilder().setNumber(a.number())
                    .setStartedAtMs(a.startedAt()).setFinishedAtMs(a.finishedAt()).setGpus(a.gpus())
                    .setExitCode(a.exitCode()).setOutcome(a.outcome()).setBorrowed(a.borrowed())
                    .setCheckpointSite(a.checkpointSite());
            for (Placement p : a.placements()) {
                ab.addPlacements(coop.v1.Placement.newBuilder().setNode(p.node()).setSite(p.site())
                        .setGpuModel(p.gpuModel()).addAllGpuIndices(p.gpuIndices()));
            }
            b.addAttempts(ab);
        }
        return b.build();
    }

    /** An array summarized, its command shown only when {@code shown}, as {@link JobVisibility} decides. */
    public static coop.v1.JobArray array(coop.scheduler.domain.JobArray a, boolean shown) {
        coop.v1.JobArray.Builder b = coop.v1.JobArray.newBuilder()
                .setId(a.id()).setName(a.name()).setAccount(a.account()).setMember(a.member())
                .setGpusPerNode(a.gpusPerNode()).setNodes(a.nodes()).setCommand(shown ? a.command() : "")
                .setCommandWithheld(!shown)
                .setSubmittedAtMs(a.submittedAt()).setTasks(a.tasks()).setFirstIndex(a.firstIndex())
                .setLastIndex(a.lastIndex()).setFinishedAtMs(a.finishedAt()).setMaxRunning(a.maxRunning());
        for (JobState s : JobState.values()) {
            if (a.count(s) > 0) {
                b.addCounts(coop.v1.StateCount.newBuilder().setState(state(s)).setCount(a.count(s)));
            }
        }
        return b.build();
    }

    public static coop.v1.JobState state(JobState s) {
        return switch (s) {
            case PENDING -> coop.v1.JobState.PENDING;
            case RUNNING -> coop.v1.JobState.RUNNING;
            case SUCCEEDED -> coop.v1.JobState.SUCCEEDED;
            case FAILED -> coop.v1.JobState.FAILED;
            case CANCELLED -> coop.v1.JobState.CANCELLED;
            case REVIEW -> coop.v1.JobState.REVIEW;
            case TIMEOUT -> coop.v1.JobState.TIMEOUT;
        };
    }

    public static JobState state(coop.v1.JobState s) {
        return switch (s) {
            case PENDING -> JobState.PENDING;
            case RUNNING -> JobState.RUNNING;
            case SUCCEEDED -> JobState.SUCCEEDED;
            case FAILED -> JobState.FAILED;
            case CANCELLED -> JobState.CANCELLED;
            case REVIEW -> JobState.REVIEW;
            case TIMEOUT -> JobState.TIMEOUT;
            default -> throw coop.scheduler.domain.CoopException.invalid("states", "unknown job state " + s);
        };
    }

    public static SharesChange shares(Map<String, Integer> shares) {
        SharesChange.Builder b = SharesChange.newBuilder();
        shares.forEach((a, bp) -> b.addShares(AccountShare.newBuilder().setAccount(a).setBasisPoints(bp)));
        return b.build();
    }

    public static coop.v1.Choice choice(Choice c) {
        return switch (c) {
            case YES -> coop.v1.Choice.YES;
            case NO -> coop.v1.Choice.NO;
            case ABSTAIN -> coop.v1.Choice.ABSTAIN;
        };
    }

    /** The quorum and support a proposal of this kind needs under the constitution, in words. */
    public static String rule(coop.scheduler.domain.ProposalKind kind, coop.scheduler.domain.Constitution c) {
        String of = c.againstEligible(kind) ? " of all eligible" : "";
        String support = switch (kind.threshold()) {
            case ORDINARY -> ", more than " + c.ordinary() + " yes";
            case SPECIAL -> ", at least " + c.special() + of + " yes";
            case CONSTITUTIONAL -> ", at least " + c.constitutional() + of + " yes";
            case QUORUM_ONLY -> ", outcome by moving-phantom aggregation";
        };
        String rule = "quorum " + c.quorum() + support;
        if (c.protective()) {
            rule += ", open at least " + coop.scheduler.governance.Rules.seconds(c.minNotice(kind))
                    + (c.delegable(kind) ? "" : ", own ballots only (not delegable)");
            if (kind == coop.scheduler.domain.ProposalKind.AMEND) {
                rule += "; entrenched rules (" + String.join(", ", coop.scheduler.domain.Constitution.ENTRENCHED_RULES)
                        + ") need " + coop.scheduler.domain.Constitution.ENTRENCHED + " of all eligible in two votes "
                        + coop.scheduler.domain.Constitution.ENTRENCHED_GAP.toDays() + " days apart";
            }
        }
        return rule;
    }

    public static coop.v1.Proposal proposal(Proposal p, coop.scheduler.domain.Constitution c) {
        return proposal(p).toBuilder().setRule(rule(p.kind(), c)).build();
    }

    public static coop.v1.Proposal proposal(Proposal p) {
        coop.v1.Proposal.Builder b = coop.v1.Proposal.newBuilder().setId(p.id()).setTitle(p.title())
                .setProposer(p.proposer()).setShares(shares(p.shares())).setOpenedAtMs(p.openedAt())
                .setClosesAtMs(p.closesAt()).setClosedAtMs(p.closedAt()).setOutcome(p.outcome())
                .setEnactedPolicyVersion(p.enactedVersion()).setKind(p.kind().label())
                .setChangeJson(Canonical.text(p.change())).addAllEligible(p.eligible())
                .setResponse(p.response()).setRespondedAtMs(p.respondedAt())
                .setState(switch (p.state()) {
                    case OPEN -> coop.v1.ProposalState.OPEN;
                    case PASSED -> coop.v1.ProposalState.PASSED;
                    case REJECTED -> coop.v1.ProposalState.REJECTED;
                    case WITHDRAWN -> coop.v1.ProposalState.WITHDRAWN;
                });
        var t = p.tally();
        b.setTally(Tally.newBuilder().setYes(t.yes()).setNo(t.no()).setAbstain(t.abstain())
                .setEligible(t.eligible()).setDirect(t.direct()).setDelegated(t.delegated()).setCapped(t.capped()));
        b.addAllResult(shares(p.result()).getSharesList());
        for (Ballot ballot : p.ballots().values()) {
            b.addBallots(coop.v1.Ballot.newBuilder().setMember(ballot.member()).setChoice(choice(ballot.choice()))
                    .setCastAtMs(ballot.castAt()).addAllSplit(shares(ballot.split()).getSharesList()));
        }
        return b.build();
    }

    public static coop.v1.Policy policy(Policy p) {
        return coop.v1.Policy.newBuilder().setVersion(p.version()).addAllShares(shares(p.shares()).getSharesList())
                .setEnactedAtMs(p.enactedAt()).setProposalId(p.proposalId())
                .setParamsJson(Canonical.text(p.params().shown()))
                .setConstitutionJson(Canonical.text(p.constitution().toMap())).setSharesSinceMs(p.sharesSince())
                .build();
    }

    public static UsageResponse usage(Accounting.Usage u) {
        UsageResponse.Builder b = UsageResponse.newBuilder().setPolicyVersion(u.policyVersion())
                .setWindowStartMs(u.windowStart()).setWindowEndMs(u.windowEnd()).setGpusOnline(u.gpusOnline())
                .setGpusBusy(u.gpusBusy());
        for (Accounting.AccountUsage a : u.accounts()) {
            b.addAccounts(AccountUsage.newBuilder().setAccount(a.account())
                    .setEntitledBasisPoints(a.entitledBasisPoints()).setAchievedPercent(a.achievedPercent())
                    .setGpuSeconds(a.gpuSeconds()).setRunningJobs(a.runningJobs()).setRunningGpus(a.runningGpus())
                    .setPendingJobs(a.pendingJobs()).setTotalGpuSeconds(a.totalGpuSeconds())
                    .addAllWindows(a.windows().stream().map(ProtoMapper::shareWindow).toList())
                    .setPreemptions(a.preemptions()).setPreemptedGpuSeconds(a.lostGpuSeconds())
                    .setMaxJobPreemptions(a.maxJobPreemptions()));
        }
        for (Accounting.StretchVerdict v : u.verdicts()) {
            b.addVerdicts(coop.v1.StretchVerdict.newBuilder().setStretch(v.stretch().label()).setFromMs(v.from())
                    .setVerdict(v.outcome().label()).setWorstGapPp(v.worstGapPp()));
        }
        return b.setVerdictRule(coop.scheduler.domain.ShareVerdict.RULE).build();
    }

    private static coop.v1.ShareWindow shareWindow(Accounting.ShareWindow w) {
        return coop.v1.ShareWindow.newBuilder().setStretch(w.stretch().label()).setFromMs(w.from())
                .setVotedPercent(w.votedPercent()).setAchievedPercent(w.achievedPercent())
                .setGpuSeconds(w.gpuSeconds()).setWaited(w.waited()).setGapPp(w.verdict().gapPp())
                .setVerdict(w.verdict().outcome().label()).build();
    }

    public static NodeInfo node(NodeRegistry.NodeStatus n) {
        NodeInfo.Builder b = NodeInfo.newBuilder().setName(n.name()).setSite(n.site())
                .setState(n.online() ? "online" : "offline").setLastHeartbeatMs(n.lastHeartbeat())
                .addAllBusyGpuIndices(n.busyGpus()).addAllRunningJobIds(n.jobIds()).setAccount(n.account())
                .setDraining(n.draining()).setDrainReason(n.drainReason()).setHealthDrain(n.healthDrain())
                .setOperatorDrain(n.operatorDrain())
                .setReservedGpus(n.reservedGpus()).addAllWindows(n.windows()).setTimeZone(n.timeZone())
                .setOffered(n.offered())
                .setWindowChangeMs(n.windowChangeAt() == Long.MAX_VALUE ? 0 : n.windowChangeAt());
        for (coop.scheduler.domain.Gpu g : n.gpus()) {
            b.addGpus(Gpu.newBuilder().setIndex(g.index()).setModel(g.model()).setMemoryMib(g.memoryMib()));
        }
        for (coop.scheduler.domain.GpuUsage u : n.gpuUsage()) {
            coop.v1.GpuUsage.Builder usage = coop.v1.GpuUsage.newBuilder().setIndex(u.index());
            u.utilizationPct().ifPresent(usage::setUtilizationPct);
            u.memoryUsedMib().ifPresent(usage::setMemoryUsedMib);
            b.addGpuUsage(usage);
        }
        return b.setHeartbeatLagMs(n.heartbeatLagMs()).setIsolation(n.isolation())
                .addAllContainerRuntimes(n.features().containerRuntimes())
                .addAllAllowedMounts(n.features().allowedMounts())
                .setMemoryPerGpuMib(n.features().memoryPerGpuMib())
                .addAllRefusedPurposes(n.refusedPurposes()).build();
    }

    /** A container's mounts as the wire has them. */
    public static List<coop.v1.JobMount> mounts(JobContainer container) {
        return container.mounts().stream().map(m -> coop.v1.JobMount.newBuilder().setSource(m.source())
                .setDestination(m.destination()).setReadOnly(m.readOnly()).build()).toList();
    }
}
