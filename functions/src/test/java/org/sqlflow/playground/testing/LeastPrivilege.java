package org.sqlflow.playground.testing;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares what a Role grants with what its ServiceAccount did, as the API server's audit log tells it. The Role
 * is right when the two are equal: nothing granted goes unused, nothing used was refused, and nothing was asked
 * outside the ServiceAccount's own namespace.
 */
public final class LeastPrivilege {

    /** Granted or used: a resource as RBAC names it ("apps/deployments", "configmaps") and a verb. */
    public record Permission(String resource, String verb) implements Comparable<Permission> {
        @Override
        public int compareTo(Permission o) {
            int c = resource.compareTo(o.resource);
            return c != 0 ? c : verb.compareTo(o.verb);
        }

        @Override
        public String toString() {
            return resource + " " + verb;
        }
    }

    /** What the comparison found: the used permissions with their request counts, and every violation. */
    public record Report(SortedMap<Permission, Integer> used, Set<Permission> granted, List<String> violations) {

        /** The used permissions, one line per resource: "apps/deployments  create(25) get(73) ...". */
        public String table() {
            SortedMap<String, StringBuilder> rows = new TreeMap<>();
            used.forEach((p, n) -> rows.computeIfAbsent(p.resource(), r -> new StringBuilder())
                    .append(' ')
                    .append(p.verb())
                    .append('(')
                    .append(n)
                    .append(')'));
            StringBuilder out = new StringBuilder(String.format("%-30s %s%n", "RESOURCE", "VERBS USED (REQUESTS)"));
            rows.forEach((r, verbs) -> out.append(String.format("%-30s%s%n", r, verbs)));
            return out.toString();
        }
    }

    private LeastPrivilege() {}

    /** Every (resource, verb) the Role grants; wildcards are kept literally (and then never match a use). */
    public static Set<Permission> granted(Role role) {
        Set<Permission> out = new TreeSet<>();
        for (PolicyRule rule : role.getRules()) {
            for (String group : rule.getApiGroups()) {
                for (String resource : rule.getResources()) {
                    for (String verb : rule.getVerbs()) {
                        out.add(new Permission(group.isEmpty() ? resource : group + "/" + resource, verb));
                    }
                }
            }
        }
        return out;
    }

    /**
     * @param users the audit user name of each ServiceAccount to judge, mapped to its own namespace
     */
    public static Report compare(Role role, Map<String, String> users, Collection<AuditLog.Entry> log) {
        Set<Permission> granted = granted(role);
        SortedMap<Permission, Integer> used = new TreeMap<>();
        Set<String> violations = new TreeSet<>();
        for (AuditLog.Entry e : log) {
            String ownNamespace = users.get(e.username());
            if (ownNamespace == null) {
                continue;
            }
            String what = e.username() + " " + e.verb() + " " + e.requestUri();
            if (e.resource() == null) {
                violations.add("a request outside the Role (non-resource URL): " + what);
                continue;
            }
            Permission p = new Permission(e.resourceKey(), e.verb());
            used.merge(p, 1, Integer::sum);
            if (e.namespace() == null) {
                violations.add("a cluster-scoped request: " + what);
            } else if (!e.namespace().equals(ownNamespace)) {
                violations.add("a request outside the ServiceAccount's namespace " + ownNamespace + ": " + what);
            }
            if ("pods".equals(e.resource()) && "exec".equals(e.subresource())) {
                violations.add("pods/exec: " + what);
            }
            if (e.code() == 403) {
                violations.add("refused (403), the Role lacks " + p + ": " + what);
            } else if (!granted.contains(p)
                    && e.namespace() != null
                    && e.namespace().equals(ownNamespace)) {
                violations.add("used but not granted (" + e.code() + "): " + p + ": " + what);
            }
        }
        for (Permission p : granted) {
            if (!used.containsKey(p)) {
                violations.add("granted but never used: " + p);
            }
        }
        return new Report(used, granted, new ArrayList<>(violations));
    }
}
