package org.sqlflow.playground.bench;

import static org.sqlflow.playground.bench.Format.round;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One measured load level: the latencies of the operations answered 200 (sorted, in nanoseconds), the errors,
 * the level's duration and the CPU time the server and the load generator spent meanwhile.
 */
final class Stats {

    final String name;
    final int concurrency;
    final long ok;
    final long errors;
    final double seconds;
    final String firstError;
    final long serverCpuNanos;
    final long clientCpuNanos;
    /** 200s by the whole second of the level in which they completed. */
    final long[] perSecond;

    private final long[] sorted;

    Stats(
            String name,
            int concurrency,
            long[] sorted,
            long errors,
            double seconds,
            String firstError,
            long serverCpuNanos,
            long clientCpuNanos,
            long[] perSecond) {
        this.name = name;
        this.concurrency = concurrency;
        this.sorted = sorted;
        this.ok = sorted.length;
        this.errors = errors;
        this.seconds = seconds;
        this.firstError = firstError;
        this.serverCpuNanos = serverCpuNanos;
        this.clientCpuNanos = clientCpuNanos;
        this.perSecond = perSecond;
    }

    /** The {@code q} quantile in milliseconds, nearest rank (so p100 is the slowest); NaN when nothing answered. */
    double pct(double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
        return sorted[Math.max(0, i)] / 1e6;
    }

    double rate() {
        return ok / seconds;
    }

    String p50p99() {
        return Format.ms(pct(0.50)) + " / " + Format.ms(pct(0.99));
    }

    Map<String, Object> json() {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("concurrency", concurrency);
        j.put("ok", ok);
        j.put("errors", errors);
        if (firstError != null) {
            j.put("first_error", Format.truncate(firstError, 300));
        }
        j.put("seconds", round(seconds, 2));
        j.put("per_second", round(rate(), 1));
        j.put("p50_ms", round(pct(0.5), 2));
        j.put("p90_ms", round(pct(0.9), 2));
        j.put("p99_ms", round(pct(0.99), 2));
        j.put("max_ms", round(pct(1.0), 2));
        // CPU per request: less sensitive to a shared machine than the wall-clock figures.
        j.put("server_cpu_us_per_request", ok == 0 ? null : round(serverCpuNanos / 1e3 / ok, 1));
        j.put("load_generator_cpu_us_per_request", ok == 0 ? null : round(clientCpuNanos / 1e3 / ok, 1));
        return j;
    }

    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "%7d ok %4d err %8.1f/s p50 %7.2f ms p99 %7.2f ms max %7.1f ms"
                        + " cpu/req server %6.0f us client %5.0f us%s",
                ok,
                errors,
                rate(),
                pct(0.5),
                pct(0.99),
                pct(1.0),
                ok == 0 ? 0 : serverCpuNanos / 1e3 / ok,
                ok == 0 ? 0 : clientCpuNanos / 1e3 / ok,
                firstError == null ? "" : "  first error: " + Format.truncate(firstError, 200));
    }
}
