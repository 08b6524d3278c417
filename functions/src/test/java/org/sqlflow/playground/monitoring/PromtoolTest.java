package org.sqlflow.playground.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.sqlflow.playground.testing.Tier;
import org.yaml.snakeyaml.Yaml;

/**
 * The alert rules and the dashboard's queries, judged by Prometheus' own promtool: the rules load, each alert
 * fires and clears on its test series (playground-rules.test.yml), and the PrometheusRule holds the same rules as
 * the plain file. Without promtool (Debian's prometheus package) these are skipped with the reason, except under
 * {@code CI=true}, where .ci/run installs it and a missing one fails.
 */
class PromtoolTest {

    private static String promtool;

    @BeforeAll
    static void findPromtool() {
        String reason = null;
        try {
            Run version = run(null, "promtool", "--version");
            if (version.exitCode() != 0) {
                reason = "promtool --version exited " + version.exitCode();
            }
        } catch (IOException e) {
            reason = "promtool not found (Debian: apt-get install prometheus): " + e.getMessage();
        }
        if (reason != null && Tier.underCi()) {
            throw new IllegalStateException("CI=true and " + reason);
        }
        assumeTrue(reason == null, reason);
        promtool = "promtool";
    }

    private record Run(int exitCode, String output) {}

    private static Run run(Path dir, String... command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new Run(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    @Test
    void theRulesLoad() throws IOException {
        Run r = run(
                null,
                promtool,
                "check",
                "rules",
                Monitoring.file(Monitoring.RULES).toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS: 6 rules found");
    }

    @Test
    void eachAlertFiresAndClearsOnItsTestSeries() throws IOException {
        Path folder = Monitoring.file(Monitoring.RULES).getParent();
        Run r = run(
                folder,
                promtool,
                "test",
                "rules",
                Path.of(Monitoring.RULE_TESTS).getFileName().toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("SUCCESS");

        // Every alert of the rules is tested both ways: firing (exp_alerts with an entry) and not (exp_alerts: []).
        Map<String, Object> tests = new Yaml().load(Monitoring.read(Monitoring.RULE_TESTS));
        List<String> firing = new ArrayList<>();
        List<String> quiet = new ArrayList<>();
        for (Map<String, Object> test : listOfMaps(tests.get("tests"))) {
            for (Map<String, Object> c : listOfMaps(test.get("alert_rule_test"))) {
                (((List<?>) c.get("exp_alerts")).isEmpty() ? quiet : firing).add((String) c.get("alertname"));
            }
        }
        assertThat(firing).containsAll(alerts());
        assertThat(quiet).containsAll(alerts());
    }

    @Test
    void theRuleTestsCanFail(@TempDir Path tmp) throws IOException {
        // A threshold moved: the same test series no longer fire the sweep alert when promtool expects it.
        Files.writeString(
                tmp.resolve("playground-rules.yml"),
                Monitoring.read(Monitoring.RULES).replace("> 900)", "> 9000)"));
        Files.copy(Monitoring.file(Monitoring.RULE_TESTS), tmp.resolve("playground-rules.test.yml"));
        Run r = run(tmp, promtool, "test", "rules", "playground-rules.test.yml");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.output()).contains("FAILED").contains("PlaygroundNoCompleteSweep");
    }

    @Test
    void thePrometheusRuleHoldsTheSameRules() {
        Map<String, Object> plain = new Yaml().load(Monitoring.read(Monitoring.RULES));
        Map<String, Object> operator = new Yaml().load(Monitoring.read(Monitoring.PROMETHEUS_RULE));
        assertThat(operator)
                .containsEntry("apiVersion", "monitoring.coreos.com/v1")
                .containsEntry("kind", "PrometheusRule");
        assertThat(operator.get("spec")).isEqualTo(Map.of("groups", plain.get("groups")));
        assertThat(Monitoring.read("knative/kustomization.yaml"))
                .as("a cluster without the operator's CRDs")
                .doesNotContain("monitoring");
        assertThat(Monitoring.read(Monitoring.FOLDER + "kustomization.yaml")).contains("prometheusrule.yaml");
    }

    @Test
    void everyDashboardQueryParses(@TempDir Path tmp) throws IOException {
        List<String> queries = Monitoring.dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(10);
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < queries.size(); i++) {
            rules.append("      - record: dashboard_query_")
                    .append(i)
                    .append("\n        expr: '")
                    .append(queries.get(i).replace("'", "''"))
                    .append("'\n");
        }
        Path file = tmp.resolve("dashboard-queries.yml");
        Files.writeString(file, rules);
        Run r = run(null, promtool, "check", "rules", file.toString());
        assertThat(r.exitCode()).as(r.output()).isZero();
        // And a query promtool cannot parse would fail here.
        Files.writeString(
                file, "groups:\n  - name: d\n    rules:\n      - record: x\n        expr: 'sum(rate(x[5m]'\n");
        assertThat(run(null, promtool, "check", "rules", file.toString()).exitCode())
                .isNotZero();
    }

    private static List<String> alerts() {
        Map<String, Object> plain = new Yaml().load(Monitoring.read(Monitoring.RULES));
        List<String> out = new ArrayList<>();
        for (Map<String, Object> group : listOfMaps(plain.get("groups"))) {
            for (Map<String, Object> rule : listOfMaps(group.get("rules"))) {
                out.add((String) rule.get("alert"));
            }
        }
        assertThat(out).hasSize(6);
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> listOfMaps(Object o) {
        return (List<Map<String, Object>>) o;
    }
}
