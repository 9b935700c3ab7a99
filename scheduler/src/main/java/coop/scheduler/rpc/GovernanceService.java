package coop.scheduler.rpc;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.engine.EventLoop;
import coop.v1.AccountShare;
import coop.v1.GetPolicyRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.ListPoliciesRequest;
import coop.v1.ListPoliciesResponse;
import coop.v1.ListProposalsRequest;
import coop.v1.ListProposalsResponse;
import coop.v1.ProposeRequest;
import coop.v1.UsageRequest;
import coop.v1.UsageResponse;
import coop.v1.VoteRequest;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Governance service: proposals, ballots, policies and usage. */
final class GovernanceService extends GovernanceGrpc.GovernanceImplBase {
    private final EventLoop loop;

    GovernanceService(EventLoop loop) {
        this.loop = loop;
    }

    @Override
    public void propose(ProposeRequest r, StreamObserver<coop.v1.Proposal> out) {
        String member = Caller.member();
        Map<String, Integer> shares = new LinkedHashMap<>();
        try {
            if (r.getKindCase() != ProposeRequest.KindCase.SHARES) {
                throw CoopException.invalid("kind", "a proposal needs a kind; supported: shares");
            }
            for (AccountShare s : r.getShares().getSharesList()) {
                if (shares.put(s.getAccount(), s.getBasisPoints()) != null) {
                    throw CoopException.invalid("shares", "account '" + s.getAccount() + "' appears twice");
                }
            }
        } catch (CoopException e) {
            out.onError(Replies.status(e));
            return;
        }
        Replies.unary(loop.call((s, tx) -> s.propose(member, r.getTitle(), shares, r.getClosesInSeconds(), tx)), out,
                ProtoMapper::proposal);
    }

    @Override
    public void vote(VoteRequest r, StreamObserver<coop.v1.Proposal> out) {
        String member = Caller.member();
        Choice choice = switch (r.getChoice()) {
            case YES -> Choice.YES;
            case NO -> Choice.NO;
            case ABSTAIN -> Choice.ABSTAIN;
            default -> null;
        };
        if (choice == null) {
            out.onError(Replies.status(CoopException.invalid("choice", "must be yes, no or abstain")));
            return;
        }
        Replies.unary(loop.call((s, tx) -> s.vote(member, r.getProposalId(), choice, tx)), out, ProtoMapper::proposal);
    }

    @Override
    public void listProposals(ListProposalsRequest r, StreamObserver<ListProposalsResponse> out) {
        Replies.unary(loop.call((s, tx) -> s.proposals(r.getOpenOnly())), out, list -> {
            ListProposalsResponse.Builder b = ListProposalsResponse.newBuilder();
            list.forEach(p -> b.addProposals(ProtoMapper.proposal(p)));
            return b.build();
        });
    }

    @Override
    public void getPolicy(GetPolicyRequest r, StreamObserver<coop.v1.Policy> out) {
        Replies.unary(loop.call((s, tx) -> s.policy(r.getVersion())), out, ProtoMapper::policy);
    }

    @Override
    public void listPolicies(ListPoliciesRequest r, StreamObserver<ListPoliciesResponse> out) {
        Replies.unary(loop.call((s, tx) -> s.policies()), out, list -> {
            ListPoliciesResponse.Builder b = ListPoliciesResponse.newBuilder();
            list.forEach(p -> b.addPolicies(ProtoMapper.policy(p)));
            return b.build();
        });
    }

    @Override
    public void usage(UsageRequest r, StreamObserver<UsageResponse> out) {
        Replies.unary(loop.call((s, tx) -> s.usage()), out, ProtoMapper::usage);
    }
}
