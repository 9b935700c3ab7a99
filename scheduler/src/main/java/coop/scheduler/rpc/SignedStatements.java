package coop.scheduler.rpc;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Statements;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Keys;
import coop.v1.AccountShare;
import coop.v1.DelegateRequest;
import coop.v1.ProposeRequest;
import coop.v1.ResignRequest;
import coop.v1.RespondRequest;
import coop.v1.ReviewRequest;
import coop.v1.VoteRequest;
import java.security.PrivateKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The statement a governance request stands for, as canonical bytes: the client signs
 * exactly what the scheduler rebuilds from the same request, so both sides share this
 * code. The signature field itself is not part of the statement.
 */
public final class SignedStatements {
    private SignedStatements() {
    }

    public static SortedMap<String, Object> propose(String member, ProposeRequest r) {
        ProposalKind kind;
        Map<String, Object> change = new LinkedHashMap<>();
        switch (r.getKindCase()) {
            case SHARES -> {
                kind = ProposalKind.SHARES;
                change.put("shares", shareMap("shares", r.getShares().getSharesList()));
            }
            case SHARE_BUDGET -> kind = ProposalKind.SHARE_BUDGET;
            case PARAM -> {
                kind = ProposalKind.PARAM;
                Map<String, Object> params = new TreeMap<>(r.getParam().getValuesMap());
                if (r.getParam().getSetPanelPurposes()) {
                    params.put("panel_purposes", List.copyOf(r.getParam().getPanelPurposesList()));
                }
                change.put("params", params);
            }
            case ADMIT -> {
                kind = ProposalKind.ADMIT;
                change.put("name", r.getAdmit().getName());
                change.put("accounts", List.copyOf(r.getAdmit().getAccountsList()));
                change.put("roles", List.copyOf(r.getAdmit().getRolesList()));
                change.put("public_key", r.getAdmit().getPublicKey());
                change.put("token_sha256", r.getAdmit().getTokenSha256());
            }
            case REMOVE -> {
                kind = ProposalKind.REMOVE;
                change.put("name", r.getRemove().getName());
            }
            case ACCOUNT -> {
                kind = ProposalKind.ACCOUNT;
                change.put("action", r.getAccount().getAction());
                change.put("name", r.getAccount().getName());
            }
            case AMEND -> {
                kind = ProposalKind.AMEND;
                var a = r.getAmend();
                putIfSet(change, "ordinary", a.getOrdinary());
                putIfSet(change, "special", a.getSpecial());
                putIfSet(change, "constitutional", a.getConstitutional());
                putIfSet(change, "quorum", a.getQuorum());
                if (a.getFloorsCount() > 0) {
                    change.put("floors", shareMap("floors", a.getFloorsList()));
                }
                if (!a.getEveryMemberVotes().isEmpty()) {
                    if (!a.getEveryMemberVotes().equals("true") && !a.getEveryMemberVotes().equals("false")) {
                        throw CoopException.invalid("every_member_votes", "must be true or false");
                    }
                    change.put("every_member_votes", Boolean.parseBoolean(a.getEveryMemberVotes()));
                }
                if (a.getRules() != 0) {
                    change.put("rules", (long) a.getRules());
                }
                if (a.getMinNoticeSCount() > 0) {
                    change.put("min_notice", new TreeMap<String, Object>(a.getMinNoticeSMap()));
                }
                if (a.getSetNonDelegable()) {
                    change.put("non_delegable", List.copyOf(a.getNonDelegableList()));
                }
                putIfSet(change, "max_delegated_weight", a.getMaxDelegatedWeight());
            }
            default -> throw CoopException.invalid("kind", "a proposal needs a kind: shares, share-budget, param, "
                    + "admit, remove, account or amend");
        }
        return Statements.propose(member, r.getSignedAtMs(), kind, r.getTitle(), r.getClosesInSeconds(), change);
    }

    public static SortedMap<String, Object> ballot(String member, VoteRequest r) {
        Map<String, Integer> split = new TreeMap<>();
        for (AccountShare s : r.getSplitList()) {
            if (split.put(s.getAccount(), s.getBasisPoints()) != null) {
                throw CoopException.invalid("split", "account '" + s.getAccount() + "' appears twice");
            }
        }
        Choice choice = switch (r.getChoice()) {
            case YES -> Choice.YES;
            case NO -> Choice.NO;
            case ABSTAIN -> Choice.ABSTAIN;
            default -> {
                if (split.isEmpty()) {
                    throw CoopException.invalid("choice", "must be yes, no or abstain (or a split on a share-budget)");
                }
                yield Choice.YES;
            }
        };
        if (!split.isEmpty() && r.getChoice() != coop.v1.Choice.CHOICE_UNSPECIFIED) {
            throw CoopException.invalid("choice", "give either a choice or a split, not both");
        }
        return Statements.ballot(member, r.getSignedAtMs(), r.getProposalId(), choice, split);
    }

    public static SortedMap<String, Object> delegate(String member, DelegateRequest r) {
        return Statements.delegate(member, r.getSignedAtMs(), Topic.parse("topic", r.getTopic()), r.getTo());
    }

    public static SortedMap<String, Object> review(String member, ReviewRequest r) {
        return Statements.review(member, r.getSignedAtMs(), r.getJobId(), r.getApprove(), r.getReason());
    }

    public static SortedMap<String, Object> resign(String member, ResignRequest r) {
        return Statements.resign(member, r.getSignedAtMs(), r.getReason());
    }

    public static SortedMap<String, Object> respond(String member, RespondRequest r) {
        return Statements.respond(member, r.getSignedAtMs(), r.getProposalId(), r.getText());
    }

    public static SortedMap<String, Object> report(String member, coop.v1.ReportRequest r) {
        return Statements.report(member, r.getSignedAtMs(), r.getJobId(), r.getConcern());
    }

    /** Signs a statement with the member's key: the value for the request's {@code signature}. */
    public static String sign(PrivateKey key, SortedMap<String, Object> statement) {
        return Keys.sign(key, Canonical.encode(statement));
    }

    private static Map<String, Object> shareMap(String field, List<AccountShare> shares) {
        Map<String, Object> out = new TreeMap<>();
        for (AccountShare s : shares) {
            if (out.put(s.getAccount(), (long) s.getBasisPoints()) != null) {
                throw CoopException.invalid(field, "account '" + s.getAccount() + "' appears twice");
            }
        }
        return out;
    }

    private static void putIfSet(Map<String, Object> m, String key, String value) {
        if (!value.isEmpty()) {
            m.put(key, value);
        }
    }
}
