package org.sqlflow.playground.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

    /** 1 ms, 2 ms, ... 200 ms, merged from two threads out of order. */
    private static Stats twoHundred() {
        long[][] perThread = new long[2][];
        int[] counts = {100, 100};
        perThread[0] = new long[128];
        perThread[1] = new long[100];
        for (int i = 0; i < 100; i++) {
            perThread[0][i] = (200 - 2L * i) * 1_000_000L;
            perThread[1][i] = (2L * i + 1) * 1_000_000L;
        }
        return new Stats("t", 2, Load.merge(perThread, counts), 3, 4.0, "500 boom", 0, 0, new long[0]);
    }

    @Test
    void percentilesAreNearestRankOverEveryThreadsLatencies() {
        Stats st = twoHundred();
        assertThat(st.ok).isEqualTo(200);
        assertThat(st.pct(0.5)).isEqualTo(100.0);
        assertThat(st.pct(0.9)).isEqualTo(180.0);
        assertThat(st.pct(0.99)).isEqualTo(198.0);
        assertThat(st.pct(1.0)).isEqualTo(200.0);
        assertThat(st.pct(0.001)).isEqualTo(1.0);
        assertThat(st.rate()).isEqualTo(50.0);
        assertThat(st.p50p99()).isEqualTo("100 ms / 198 ms");
    }

    @Test
    void nothingAnsweredGivesNoFigures() {
        Stats st = new Stats("t", 1, new long[0], 5, 2.0, "-1 refused", 0, 0, new long[0]);
        assertThat(st.pct(0.99)).isNaN();
        assertThat(st.p50p99()).isEqualTo("n/a / n/a");
        assertThat(st.json())
                .containsEntry("ok", 0L)
                .containsEntry("errors", 5L)
                .containsEntry("server_cpu_us_per_request", null)
                .containsEntry("first_error", "-1 refused");
        assertThat(Json.compact(st.json())).contains("\"p99_ms\":null");
    }

    @Test
    void formats() {
        assertThat(Format.ms(0.5812)).isEqualTo("0.58 ms");
        assertThat(Format.ms(99.994)).isEqualTo("99.99 ms");
        assertThat(Format.ms(268.4)).isEqualTo("268 ms");
        assertThat(Format.median(List.of(9248.0, 8866.0, 8600.0))).isEqualTo(8866.0);
        assertThat(Format.median(List.of(3.0, 1.0))).isEqualTo(3.0);
        assertThat(Format.round(85.0949, 2)).isEqualTo(85.09);
    }
}
