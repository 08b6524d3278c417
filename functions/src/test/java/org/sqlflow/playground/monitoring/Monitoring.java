package org.sqlflow.playground.monitoring;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.sqlflow.playground.testing.PlaygroundServiceAccount;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The monitoring files of knative/monitoring/, and the metric names they and a scrape contain. */
final class Monitoring {

    static final String FOLDER = "knative/monitoring/";
    static final String RULES = FOLDER + "playground-rules.yml";
    static final String RULE_TESTS = FOLDER + "playground-rules.test.yml";
    static final String PROMETHEUS_RULE = FOLDER + "prometheusrule.yaml";
    static final String DASHBOARD = FOLDER + "grafana-dashboard.json";

    private static final Pattern METRIC = Pattern.compile("\\bplayground_[a-z0-9_]+");

    private Monitoring() {}

    static Path file(String relative) {
        return PlaygroundServiceAccount.repositoryFile(relative);
    }

    static String read(String relative) {
        try {
            return Files.readString(file(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The expressions of the plain rules file. */
    @SuppressWarnings("unchecked")
    static List<String> ruleExpressions() {
        Map<String, Object> rules = new Yaml().load(read(RULES));
        List<String> out = new ArrayList<>();
        for (Map<String, Object> group : (List<Map<String, Object>>) rules.get("groups")) {
            for (Map<String, Object> rule : (List<Map<String, Object>>) group.get("rules")) {
                out.add((String) rule.get("expr"));
            }
        }
        return out;
    }

    /** The metric names in the rules' expressions. */
    static Set<String> metricsInRules() {
        return metricsIn(ruleExpressions());
    }

    /** Every query of the dashboard (each panel's targets' expr). */
    static List<String> dashboardQueries() {
        JsonNode dashboard = JsonMapper.builder().build().readTree(read(DASHBOARD));
        List<String> queries = new ArrayList<>();
        for (JsonNode panel : dashboard.get("panels")) {
            JsonNode targets = panel.get("targets");
            if (targets != null) {
                targets.forEach(t -> queries.add(t.get("expr").asString()));
            }
        }
        return queries;
    }

    static Set<String> metricsInDashboard() {
        return metricsIn(dashboardQueries());
    }

    private static Set<String> metricsIn(List<String> queries) {
        Set<String> out = new TreeSet<>();
        for (String q : queries) {
            Matcher m = METRIC.matcher(q);
            while (m.find()) {
                out.add(m.group());
            }
        }
        return out;
    }

    /** The series names of a Prometheus text exposition (the sample lines, not the comments). */
    static Set<String> seriesNames(String exposition) {
        Set<String> out = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int end = 0;
                while (end < line.length() && line.charAt(end) != '{' && line.charAt(end) != ' ') {
                    end++;
                }
                out.add(line.substring(0, end));
            }
        }
        return out;
    }
}
