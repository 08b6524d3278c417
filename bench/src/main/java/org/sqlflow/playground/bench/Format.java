package org.sqlflow.playground.bench;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Rounding, the table's number formats and the progress log. */
final class Format {

    private Format() {}

    static double round(double x, int digits) {
        if (Double.isNaN(x) || Double.isInfinite(x)) {
            return x;
        }
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }

    /** The upper median (the middle of an odd count): one of the measured values, never an average of two. */
    static Double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return null;
        }
        List<Double> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    /** Milliseconds: two decimals below 100 ms, none from there on. */
    static String ms(Double ms) {
        return ms == null || ms.isNaN()
                ? "n/a"
                : ms >= 100 ? String.format(Locale.ROOT, "%.0f ms", ms) : String.format(Locale.ROOT, "%.2f ms", ms);
    }

    static String rate(double perSecond) {
        return String.format(Locale.ROOT, "%.0f/s", perSecond);
    }

    static String three(double x) {
        return String.format(Locale.ROOT, "%.3f", x);
    }

    static String truncate(String s, int max) {
        return s.length() > max ? s.substring(0, max) : s;
    }

    static void log(String format, Object... args) {
        System.err.printf(
                "[bench %s] %s%n",
                Instant.now().truncatedTo(ChronoUnit.SECONDS), String.format(Locale.ROOT, format, args));
    }
}
