package coop.agent;

import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A scheduler target that lists several addresses, {@code host1:7070,host2:7070,host3:7070}: the
 * replicas of a replicated cooperative, of which only the leader listens. gRPC's pick-first
 * dials them in order and keeps the first that answers; when that connection breaks (the leader
 * died or stepped down), the next call dials the list again and finds the new leader.
 */
public final class SchedulerAddresses {
    /** The URI scheme the resolver answers for. */
    static final String SCHEME = "coop-replicas";

    static {
        NameResolverRegistry.getDefaultRegistry().register(new Provider());
    }

    private SchedulerAddresses() {
    }

    /** Whether {@code target} lists more than one address. */
    public static boolean isList(String target) {
        return target.indexOf(',') >= 0;
    }

    /** The gRPC target for a list of addresses. */
    static String uri(String list) {
        return SCHEME + ":///" + list.replace(" ", "");
    }

    /**
     * The addresses of a list, in order.
     *
     * @throws IllegalArgumentException naming an entry that is not HOST:PORT
     */
    public static List<InetSocketAddress> parse(String list) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String a : list.split(",")) {
            String s = a.strip();
            int colon = s.lastIndexOf(':');
            int port;
            try {
                port = colon < 1 ? -1 : Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("scheduler address '" + s + "' is not HOST:PORT");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            out.add(InetSocketAddress.createUnresolved(host, port));
        }
        return out;
    }

    private static final class Provider extends NameResolverProvider {
        @Override
        protected boolean isAvailable() {
            return true;
        }

        @Override
        protected int priority() {
            return 5;
        }

        @Override
        public String getDefaultScheme() {
            return SCHEME;
        }

        @Override
        public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
            return List.of(InetSocketAddress.class);
        }

        @Override
        public NameResolver newNameResolver(URI uri, NameResolver.Args args) {
            if (!SCHEME.equals(uri.getScheme())) {
                return null;
            }
            String list = uri.getPath().startsWith("/") ? uri.getPath().substring(1) : uri.getPath();
            List<InetSocketAddress> addresses = parse(list);
            return new NameResolver() {
                private Listener2 listener;

                @Override
                public String getServiceAuthority() {
                    InetSocketAddress first = addresses.get(0);
                    return first.getHostString() + ":" + first.getPort();
                }

                @Override
                public void start(Listener2 listener) {
                    this.listener = listener;
                    resolve();
                }

                @Override
                public void refresh() {
                    resolve();
                }

                private void resolve() {
                    List<EquivalentAddressGroup> groups = new ArrayList<>();
                    for (InetSocketAddress a : addresses) {
                        InetSocketAddress resolved = new InetSocketAddress(a.getHostString(), a.getPort());
                        if (resolved.isUnresolved()) {
                            continue;
                        }
                        groups.add(new EquivalentAddressGroup(resolved));
                    }
                    if (groups.isEmpty()) {
                        listener.onError(Status.UNAVAILABLE.withDescription("none of the scheduler addresses " + addresses
                                + " resolves"));
                        return;
                    }
                    listener.onResult(ResolutionResult.newBuilder().setAddressesOrError(
                            io.grpc.StatusOr.fromValue(groups)).build());
                }

                @Override
                public void shutdown() {
                }
            };
        }
    }
}
