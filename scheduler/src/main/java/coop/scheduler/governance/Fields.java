package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reads the fields of canonical maps (statements, proposed changes, ledger bodies): a missing
 * field reads as empty, a field of the wrong type is refused with an error naming it.
 */
final class Fields {
    private Fields() {
    }

    static String string(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            return "";
        }
        if (!(v instanceof String s)) {
            throw CoopException.invalid(field, "must be text");
        }
        return s;
    }

    static long number(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            return 0;
        }
        if (!(v instanceof Number n)) {
            throw CoopException.invalid(field, "must be a whole number");
        }
        return n.longValue();
    }

    /** A list of names; missing reads as none. */
    static java.util.List<String> strings(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            return java.util.List.of();
        }
        if (!(v instanceof java.util.List<?> l) || l.stream().anyMatch(x -> !(x instanceof String))) {
            throw CoopException.invalid(field, "must be a list of names");
        }
        return l.stream().map(String.class::cast).toList();
    }

    static SortedMap<String, Object> map(Map<String, Object> m, String field) {
        return new TreeMap<>(mapOrEmpty(m.get(field), field));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> mapOrEmpty(Object v, String field) {
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?>)) {
            throw CoopException.invalid(field, "must be an object");
        }
        return (Map<String, Object>) v;
    }

    /** Account shares in basis points, as a shares change or a split gives them. */
    static SortedMap<String, Integer> intMap(Map<String, Object> m) {
        SortedMap<String, Integer> out = new TreeMap<>();
        for (var e : m.entrySet()) {
            if (!(e.getValue() instanceof Number n) || n.longValue() > Integer.MAX_VALUE
                    || n.longValue() < Integer.MIN_VALUE) {
                throw CoopException.invalid("shares[" + e.getKey() + "]", "must be a whole number of basis points");
            }
            out.put(e.getKey(), n.intValue());
        }
        return out;
    }
}
