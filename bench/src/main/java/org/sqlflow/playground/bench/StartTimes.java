package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.log;
import static org.sqlflow.playground.bench.Format.round;
import static org.sqlflow.playground.bench.Results.map;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Process start to the first 200, over {@code --start-runs} starts of one launch: each start's wall and CPU time
 * and the load average before it, and their medians in the table.
 */
record StartTimes(List<Double> wall, List<Double> cpu, List<String> loads) {

    /** Starts a server {@code --start-runs} times (at least once) and adds the medians' row to the table. */
    static StartTimes measure(Run run, String name, String target, Callable<Server> start) throws Exception {
        List<Double> wall = new ArrayList<>();
        List<Double> cpu = new ArrayList<>();
        List<String> loads = new ArrayList<>();
        for (int i = 0; i < Math.max(1, run.opt.startRuns); i++) {
            String load = Bench.loadAverage();
            try (Server s = start.call()) {
                wall.add(round(s.firstOkMillis, 0));
                cpu.add(round(s.firstOkCpuMillis, 0));
                loads.add(load);
                log(
                        "start (%s) run %d: %.0f ms to first 200, %.0f ms CPU, load %s",
                        name, i + 1, s.firstOkMillis, s.firstOkCpuMillis, load);
            }
        }
        StartTimes times = new StartTimes(wall, cpu, loads);
        run.results.row(
                "start",
                "start to first 200, " + name + ": wall (CPU)",
                Format.ms(times.medianWall()) + " (" + Format.ms(times.medianCpu()) + " CPU)",
                target);
        return times;
    }

    Double medianWall() {
        return Format.median(wall);
    }

    Double medianCpu() {
        return Format.median(cpu);
    }

    /** The results file's entry: every start and the medians. */
    Map<String, Object> asMap() {
        return map("wall_ms", wall, "cpu_ms", cpu, "median_wall_ms", medianWall(), "median_cpu_ms", medianCpu());
    }
}
