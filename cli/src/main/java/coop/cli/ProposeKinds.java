package coop.cli;

import coop.v1.AccountChange;
import coop.v1.Admission;
import coop.v1.Amendment;
import coop.v1.ParamChange;
import coop.v1.ProposeRequest;
import coop.v1.Removal;
import coop.v1.ShareBudget;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The kinds of proposal besides shares, one subcommand each. */
final class ProposeKinds {
    private ProposeKinds() {
    }

    @Command(name = "share-budget", mixinStandardHelpOptions = true,
            description = {"Open a share budget: every member votes with a split over the accounts, and the outcome "
                    + "is their moving-phantom aggregation.",
                    "A split is voted with coop vote ID --split lab-a=40,lab-b=40,uni-c=20; no member can game the "
                            + "aggregation by exaggerating. Needs only the quorum."})
    static final class Budget extends ProposeKindCommand {
        @Override
        void change(ProposeRequest.Builder request) {
            request.setShareBudget(ShareBudget.getDefaultInstance());
        }
    }

    @Command(name = "param", mixinStandardHelpOptions = true,
            description = {"Change policy parameters (special majority, 2/3 by default).",
                    "Parameters: half_life_s, preemption_grace_s, reserve_cap_bp, max_walltime_s,",
                    "max_pending_per_member, voting_period_s, panel_size, panel_min_gpus, panel_purposes,",
                    "max_workdir_bytes (bytes, 1 MiB to 1 GiB: the largest folder coop submit --workdir ships),",
                    "min_run_before_preempt_s (an attempt runs this long before it may be preempted; 5 min),",
                    "reserve_wait_s (how long an operator's job waits for borrowers on its reserve to end; 5 min),",
                    "panel_window_s (how long a member's ended jobs count toward panel_min_gpus per purpose; 1 d).",
                    "Values ending in _s take durations (7d, 90m, 30s). panel_purposes takes a comma list.",
                    "Example: coop propose param --set half_life_s=3d --set panel_min_gpus=32"})
    static final class Param extends ProposeKindCommand {
        @Option(names = "--set", paramLabel = "NAME=VALUE", required = true, description = "A parameter to set. A name "
                + "ending in _s takes a duration where a bare number is seconds, as the name says (grace_s=90 is 90 s; "
                + "90m, 1h30m, 2d as written).")
        List<String> sets;

        @Override
        void change(ProposeRequest.Builder request) {
            ParamChange.Builder b = ParamChange.newBuilder();
            ParamSettings.parse("--set", sets).forEach((name, value) -> {
                if (value instanceof List<?> purposes) {
                    b.setSetPanelPurposes(true);
                    purposes.forEach(p -> b.addPanelPurposes((String) p));
                } else {
                    b.putValues(name, (Long) value);
                }
            });
            request.setParam(b);
        }
    }

    @Command(name = "admit", mixinStandardHelpOptions = true,
            description = {"Propose admitting a member (special majority).",
                    "The newcomer runs coop member keygen --name NAME and hands over the public file it writes.",
                    "Example: coop propose admit --from frank.pub.json --accounts lab-b --roles member,researcher"})
    static final class Admit extends ProposeKindCommand {
        @Option(names = "--from", paramLabel = "FILE", required = true,
                description = "The public identity file from coop member keygen (name, public key, token digest).")
        java.nio.file.Path from;

        @Option(names = "--accounts", paramLabel = "A,B", split = ",", description = "Accounts it may submit to.")
        List<String> accounts = new ArrayList<>();

        @Option(names = "--roles", paramLabel = "ROLES", split = ",", defaultValue = "member,researcher",
                description = "Roles: member, researcher, operator (default: ${DEFAULT-VALUE}).")
        List<String> roles;

        @Override
        void change(ProposeRequest.Builder request) {
            Map<String, String> pub = MemberCommand.readPublic(from);
            request.setAdmit(Admission.newBuilder().setName(pub.get("member")).addAllAccounts(accounts)
                    .addAllRoles(roles).setPublicKey(pub.get("public_key")).setTokenSha256(pub.get("token_sha256")));
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Propose removing a member (2/3 of all eligible members, own ballots only). Once it "
                    + "passes, the member's later statements are refused, its ballots on open votes struck, its "
                    + "open proposals withdrawn and its jobs that have not started cancelled.",
                    "A removal is a hearing: it stays open its whole notice period (7 days at founding) even once "
                            + "everyone has voted, and the member named answers with coop respond ID --file F."})
    static class Remove extends ProposeKindCommand {
        @Parameters(paramLabel = "MEMBER", description = "The member to remove.")
        String name;

        @Override
        void change(ProposeRequest.Builder request) {
            request.setRemove(Removal.newBuilder().setName(name));
        }
    }

    @Command(name = "account", mixinStandardHelpOptions = true,
            description = {"Propose creating an account (with a 0%% share) or closing one whose share is 0%%.",
                    "Example: coop propose account create lab-d"})
    static final class Account extends ProposeKindCommand {
        @Parameters(index = "0", paramLabel = "create|close", description = "What to do.")
        String action;

        @Parameters(index = "1", paramLabel = "ACCOUNT", description = "The account.")
        String name;

        @Override
        void change(ProposeRequest.Builder request) {
            request.setAccount(AccountChange.newBuilder().setAction(action).setName(name));
        }
    }

    @Command(name = "amend", mixinStandardHelpOptions = true,
            description = {"Amend the constitution (constitutional majority, 3/4 by default).",
                    "What it can change: thresholds as fractions (2/3) or percentages (60%%), the quorum (never "
                            + "below 1/3), account floors, whether every member must hold a vote, the notice "
                            + "periods, the non-delegable kinds and the most weight one delegate carries.",
                    "Floors, every-member-votes, notice periods and non-delegable kinds are entrenched: they need "
                            + "9/10 of all eligible members in two votes on the same change closing at least 14 "
                            + "days apart, and lowering a floor a majority of that account's own members too.",
                    "Example: coop propose amend --quorum 40%% --floor uni-c=10"})
    static final class Amend extends ProposeKindCommand {
        @Option(names = "--ordinary", paramLabel = "FRACTION", description = "Support an ordinary proposal must exceed.")
        String ordinary = "";

        @Option(names = "--special", paramLabel = "FRACTION", description = "Support a special proposal must reach.")
        String special = "";

        @Option(names = "--constitutional", paramLabel = "FRACTION",
                description = "Support an amendment must reach.")
        String constitutional = "";

        @Option(names = "--quorum", paramLabel = "FRACTION", description = "Participation needed.")
        String quorum = "";

        @Option(names = "--floor", paramLabel = "ACCOUNT=PERCENT", converter = ShareArgument.Converter.class,
                description = "An account's least share (0 removes the floor).")
        List<ShareArgument> floors = new ArrayList<>();

        @Option(names = "--every-member-votes", paramLabel = "true|false",
                description = "Whether every member must hold a vote.")
        String everyMemberVotes = "";

        @Option(names = "--notice", paramLabel = "KIND=DURATION",
                description = "A kind's notice period, the least time its proposals stay open. " + Durations.FORMS_HELP
                        + " Repeatable.")
        List<String> notice = new ArrayList<>();

        @Option(names = "--non-delegable", paramLabel = "KINDS", split = ",",
                description = "The kinds on which only a member's own ballot counts (replaces the list; '' for none).")
        List<String> nonDelegable;

        @Option(names = "--max-delegated-weight", paramLabel = "FRACTION",
                description = "Most weight one delegate carries for others, as a fraction of the eligible.")
        String maxDelegatedWeight = "";

        @Option(names = "--rules", paramLabel = "2",
                description = "Move a cooperative founded under the first rules to rules 2 (notice periods, "
                        + "turnout, delegation limits, entrenched rules) with their founding defaults.")
        int rules;

        @Override
        void change(ProposeRequest.Builder request) {
            Amendment.Builder b = Amendment.newBuilder().setOrdinary(ordinary).setSpecial(special)
                    .setConstitutional(constitutional).setQuorum(quorum).setEveryMemberVotes(everyMemberVotes)
                    .setMaxDelegatedWeight(maxDelegatedWeight).setRules(rules);
            b.putAllMinNoticeS(NoticeSettings.parse("--notice", notice));
            if (nonDelegable != null) {
                b.setSetNonDelegable(true);
                nonDelegable.stream().filter(k -> !k.isBlank()).forEach(b::addNonDelegable);
            }
            Map<String, ShareArgument> byAccount = new TreeMap<>();
            floors.forEach(f -> byAccount.put(f.account(), f));
            byAccount.values().forEach(f -> b.addFloors(f.toProto()));
            request.setAmend(b);
        }
    }
}
