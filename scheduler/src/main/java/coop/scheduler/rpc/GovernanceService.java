package coop.scheduler.rpc;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Topic;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.view.ProtoMapper;
import coop.scheduler.view.Reads;
import coop.v1.DelegateRequest;
import coop.v1.ResignRequest;
import coop.v1.RespondRequest;
import coop.v1.DelegateResponse;
import coop.v1.Delegation;
import coop.v1.GetPolicyRequest;
import coop.v1.GetProposalRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.ListMembersRequest;
import coop.v1.ListMembersResponse;
import coop.v1.ListPoliciesRequest;
import coop.v1.ListPoliciesResponse;
import coop.v1.ListProposalsRequest;
import coop.v1.ListProposalsResponse;
import coop.v1.MemberInfo;
import coop.v1.ProposeRequest;
import coop.v1.ReviewRequest;
import coop.v1.UsageRequest;
import coop.v1.UsageResponse;
import coop.v1.VoteRequest;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.SortedMap;
import java.util.function.Function;

/**
 * The Governance service: signed proposals, ballots, delegations and reviews, and the
 * policies and usage they lead to. The statement each request stands for is rebuilt here
 * and checked against the caller's key by the governance rules.
 */
final class GovernanceService extends GovernanceGrpc.GovernanceImplBase {
    private final EventLoop loop;
    private final coop.scheduler.trust.Authority authority;

    /** @param authority signs members' TLS certificates; null when the scheduler runs without TLS */
    GovernanceService(EventLoop loop, coop.scheduler.trust.Authority authority) {
        this.loop = loop;
        this.authority = authority;
    }

    /**
     * Signs a TLS certificate for an admitted member's own key. The request is the member's own,
     * signed with its Ed25519 key (registered at admission), so whoever passes it on (the member
     * who proposed the admission, say) cannot have a certificate made for a key of its choosing.
     */
    @Override
    public void certify(coop.v1.CertifyRequest r, StreamObserver<coop.v1.CertifyResponse> out) {
        if (authority == null) {
            out.onError(Replies.status(CoopException.precondition(
                    "this scheduler runs without TLS and has no certificate authority")));
            return;
        }
        if (Fields.refused(out, () -> {
            coop.scheduler.domain.Names.require("member", r.getMember());
            Fields.maxLength("public_key", r.getPublicKey(), Fields.MAX_PUBLIC_KEY);
            Fields.maxLength("signature", r.getSignature(), Fields.MAX_SIGNATURE);
        })) {
            return;
        }
        java.security.PublicKey key;
        try {
            key = tlsPublicKey(r.getPublicKey());
        } catch (CoopException e) {
            out.onError(Replies.status(e));
            return;
        }
        loop.call((s, tx) -> s.member(r.getMember())).whenComplete((m, e) -> {
            try {
                if (e != null) {
                    throw e;
                }
                if (m == null || !m.active()) {
                    throw CoopException.notFound("no member named '" + r.getMember() + "'");
                }
                SortedMap<String, Object> statement = coop.scheduler.governance.Statements.certify(m.name(),
                        r.getSignedAtMs(), r.getPublicKey());
                if (m.publicKey() == null || !coop.scheduler.ledger.Keys.verify(m.publicKey(),
                        coop.scheduler.ledger.Canonical.encode(statement), r.getSignature())) {
                    throw CoopException.invalid("signature", "is not " + m.name()
                            + "'s signature of this request (its Ed25519 key, registered at admission)");
                }
                String certificate = authority.certify(new coop.scheduler.trust.Authority.Holder(
                        coop.scheduler.trust.Authority.Holder.MEMBER, m.name()), key);
                coop.v1.CertifyResponse response = coop.v1.CertifyResponse.newBuilder()
                        .setCertificate(certificate)
                        .setCaCertificate(authority.caPem())
                        .setSchedulerCertificate(authority.schedulerPem()).build();
                // Recorded in the ledger before it is handed over.
                Replies.unary(loop.call((s, tx) -> {
                    s.certificateIssued(coop.scheduler.trust.Authority.Holder.MEMBER, m.name(),
                            coop.scheduler.trust.Authority.serial(certificate), tx);
                    return response;
                }), out, r2 -> r2);
            } catch (Throwable t) {
                out.onError(Replies.status(t));
            }
        });
    }

    private static java.security.PublicKey tlsPublicKey(String pem) {
        try {
            return coop.scheduler.trust.Authority.publicKey(pem);
        } catch (IllegalArgumentException e) {
            throw CoopException.invalid("public_key", "must be an EC public key in PEM (-----BEGIN PUBLIC KEY-----): "
                    + e.getMessage());
        }
    }

    /** The statement a request stands for, built on the calling thread; null after refusing the call. */
    private static <R> SortedMap<String, Object> statement(StreamObserver<R> out, String signature,
                                                           Function<String, SortedMap<String, Object>> build) {
        String member = Caller.member();
        if (member == null) {
            out.onError(Replies.status(new CoopException(CoopException.Kind.UNAUTHENTICATED,
                    "this call needs a member identity (--identity FILE or COOP_IDENTITY)")));
            return null;
        }
        try {
            Fields.maxLength("signature", signature, Fields.MAX_SIGNATURE);
            return build.apply(member);
        } catch (CoopException e) {
            out.onError(Replies.status(e));
            return null;
        }
    }

    @Override
    public void propose(ProposeRequest r, StreamObserver<coop.v1.Proposal> out) {
        String member = Caller.member();
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.propose(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> ProtoMapper.proposal(s.propose(member, st, r.getSignature(), tx),
                    s.policy().constitution())), out, x -> x);
        }
    }

    @Override
    public void vote(VoteRequest r, StreamObserver<coop.v1.Proposal> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("proposal_id", r.getProposalId()))) {
            return;
        }
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.ballot(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> ProtoMapper.proposal(s.vote(member, st, r.getSignature(), tx),
                    s.policy().constitution())), out, x -> x);
        }
    }

    @Override
    public void delegate(DelegateRequest r, StreamObserver<DelegateResponse> out) {
        String member = Caller.member();
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.delegate(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> s.delegate(member, st, r.getSignature(), tx)), out,
                    d -> DelegateResponse.newBuilder().addAllDelegations(delegations(d)).build());
        }
    }

    @Override
    public void resign(ResignRequest r, StreamObserver<MemberInfo> out) {
        String member = Caller.member();
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.resign(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> memberInfo(s, s.resign(member, st, r.getSignature(), tx))), out,
                    x -> x);
        }
    }

    @Override
    public void respond(RespondRequest r, StreamObserver<coop.v1.Proposal> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("proposal_id", r.getProposalId()))) {
            return;
        }
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.respond(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> ProtoMapper.proposal(s.respond(member, st, r.getSignature(), tx),
                    s.policy().constitution())), out, x -> x);
        }
    }

    @Override
    public void review(ReviewRequest r, StreamObserver<coop.v1.Job> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("job_id", r.getJobId()))) {
            return;
        }
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.review(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> {
                var job = s.review(member, st, r.getSignature(), tx);
                return ProtoMapper.job(job, s.whyPending(job.id()), s.visibility(member));
            }), out, j -> j);
        }
    }

    @Override
    public void report(coop.v1.ReportRequest r, StreamObserver<coop.v1.Job> out) {
        String member = Caller.member();
        if (Fields.refused(out, () -> Fields.positiveId("job_id", r.getJobId()))) {
            return;
        }
        SortedMap<String, Object> st = statement(out, r.getSignature(), m -> SignedStatements.report(m, r));
        if (st != null) {
            Replies.unary(loop.call((s, tx) -> {
                var job = s.report(member, st, r.getSignature(), tx);
                return ProtoMapper.job(job, s.whyPending(job.id()), s.visibility(member));
            }), out, j -> j);
        }
    }

    private static java.util.List<Delegation> delegations(Map<Topic, String> byTopic) {
        java.util.List<Delegation> out = new java.util.ArrayList<>();
        byTopic.forEach((t, to) -> out.add(Delegation.newBuilder().setTopic(t.label()).setTo(to).build()));
        return out;
    }

    @Override
    public void listProposals(ListProposalsRequest r, StreamObserver<ListProposalsResponse> out) {
        Replies.unary(Reads.proposals(loop, r.getOpenOnly()), out, x -> x);
    }

    @Override
    public void getProposal(GetProposalRequest r, StreamObserver<coop.v1.Proposal> out) {
        if (Fields.refused(out, () -> Fields.positiveId("proposal_id", r.getProposalId()))) {
            return;
        }
        Replies.unary(loop.call((s, tx) -> ProtoMapper.proposal(s.proposal(r.getProposalId()),
                s.policy().constitution())), out, x -> x);
    }

    @Override
    public void listMembers(ListMembersRequest r, StreamObserver<ListMembersResponse> out) {
        Replies.unary(loop.call((s, tx) -> {
            ListMembersResponse.Builder b = ListMembersResponse.newBuilder();
            for (Member m : s.members()) {
                b.addMembers(memberInfo(s, m));
            }
            return b.build();
        }), out, x -> x);
    }

    private static MemberInfo memberInfo(coop.scheduler.engine.ClusterState s, Member m) {
        MemberInfo.Builder mb = MemberInfo.newBuilder().setName(m.name()).addAllAccounts(m.accounts())
                .setAdmittedAtMs(m.admittedAt()).setRemovedAtMs(m.removedAt())
                .addAllDelegations(delegations(s.delegations(m.name()))).setResigned(s.resigned(m.name()));
        m.roles().forEach(role -> mb.addRoles(role.label()));
        return mb.build();
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
        Replies.unary(Reads.usage(loop), out, x -> x);
    }
}
