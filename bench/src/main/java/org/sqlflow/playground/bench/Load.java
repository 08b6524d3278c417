package org.sqlflow.playground.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The measuring loop, the one every section uses: {@code ops} operations over {@code concurrency} threads, each
 * with its own kept-alive connection (or, with {@code newConnection}, a new connection and full handshake per
 * operation), until the count is reached or {@code seconds} have passed, whichever comes first. Latency is
 * measured per operation, connection set-up included when it is per operation; only 200s count as answered, and
 * they are also counted by the second of the level in which they completed (a warm-up shows as a rising series).
 */
final class Load {

    /** One operation, the {@code index}-th of the level. */
    interface Op {
        Connection.Response call(Connection c, long index) throws Exception;
    }

    private Load() {}

    static Stats run(
            String name, int concurrency, long ops, double seconds, boolean newConnection, TlsClient client, Op op)
            throws InterruptedException {
        return run(name, concurrency, ops, seconds, newConnection, client, op, () -> {});
    }

    /** The same, calling {@code atStart} when the level's clock starts (its connections are open by then). */
    static Stats run(
            String name,
            int concurrency,
            long ops,
            double seconds,
            boolean newConnection,
            TlsClient client,
            Op op,
            Runnable atStart)
            throws InterruptedException {
        AtomicLong issued = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        AtomicReference<String> firstError = new AtomicReference<>();
        long[][] latencies = new long[concurrency][];
        int[] counts = new int[concurrency];
        long[] deadline = new long[1];
        long[] started = new long[1];
        AtomicLongArray perSecond = new AtomicLongArray((int) Math.min(100_000, Math.ceil(seconds) + 1));
        CountDownLatch ready = new CountDownLatch(concurrency);
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[concurrency];
        for (int t = 0; t < concurrency; t++) {
            int id = t;
            threads[t] = new Thread(
                    null,
                    () -> {
                        long[] mine = new long[4096];
                        int k = 0;
                        Connection conn = null;
                        try {
                            if (!newConnection) {
                                conn = client.open();
                            }
                            ready.countDown();
                            go.await();
                            while (System.nanoTime() < deadline[0]) {
                                long i = issued.getAndIncrement();
                                if (i >= ops) {
                                    break;
                                }
                                long t0 = System.nanoTime();
                                Connection.Response r;
                                try {
                                    if (newConnection) {
                                        try (Connection c = client.openFresh()) {
                                            r = op.call(c, i);
                                        }
                                    } else {
                                        if (conn.closed()) {
                                            // The server ends a kept-alive connection after so many requests (Tomcat:
                                            // max-keep-alive-requests); a browser-like client opens the next one.
                                            conn = client.open();
                                        }
                                        r = op.call(conn, i);
                                    }
                                } catch (IOException e) {
                                    r = new Connection.Response(-1, String.valueOf(e));
                                    if (conn != null) {
                                        conn.close();
                                        conn = client.open();
                                    }
                                }
                                long done = System.nanoTime();
                                long dt = done - t0;
                                if (r.status() != 200) {
                                    errors.incrementAndGet();
                                    firstError.compareAndSet(null, r.status() + " " + r.body());
                                    continue;
                                }
                                int second = (int) ((done - started[0]) / 1_000_000_000L);
                                if (second < perSecond.length()) {
                                    perSecond.incrementAndGet(second);
                                }
                                if (k == mine.length) {
                                    mine = Arrays.copyOf(mine, k * 2);
                                }
                                mine[k++] = dt;
                            }
                        } catch (Exception e) {
                            errors.incrementAndGet();
                            firstError.compareAndSet(null, String.valueOf(e));
                        } finally {
                            ready.countDown();
                            if (conn != null) {
                                conn.close();
                            }
                            latencies[id] = mine;
                            counts[id] = k;
                        }
                    },
                    "load-" + t,
                    256 * 1024);
            threads[t].start();
        }
        ready.await(120, TimeUnit.SECONDS);
        MeasuredProcess server = client.server;
        long serverCpu0 = server == null ? 0 : server.cpuNanos();
        long selfCpu0 = selfCpuNanos();
        atStart.run();
        long start = System.nanoTime();
        started[0] = start;
        deadline[0] = start + (long) (seconds * 1e9);
        go.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis((long) seconds + 120));
        }
        long end = System.nanoTime();
        long serverCpu = server == null ? 0 : server.cpuNanos() - serverCpu0;
        long selfCpu = selfCpuNanos() - selfCpu0;
        Stats st = new Stats(
                name,
                concurrency,
                merge(latencies, counts),
                errors.get(),
                (end - start) / 1e9,
                firstError.get(),
                serverCpu,
                selfCpu,
                completedSeconds(perSecond, (end - start) / 1e9));
        Format.log("%-44s %s", name, st);
        return st;
    }

    /** The counts of the whole seconds the level lasted (a last, partial second is left out). */
    private static long[] completedSeconds(AtomicLongArray perSecond, double seconds) {
        long[] out = new long[(int) Math.min(perSecond.length(), Math.floor(seconds))];
        for (int i = 0; i < out.length; i++) {
            out[i] = perSecond.get(i);
        }
        return out;
    }

    /** Every thread's latencies in one sorted array. */
    static long[] merge(long[][] latencies, int[] counts) {
        int total = 0;
        for (int c : counts) {
            total += c;
        }
        long[] all = new long[total];
        int p = 0;
        for (int t = 0; t < latencies.length; t++) {
            if (latencies[t] != null) {
                System.arraycopy(latencies[t], 0, all, p, counts[t]);
                p += counts[t];
            }
        }
        Arrays.sort(all, 0, p);
        return p == total ? all : Arrays.copyOf(all, p);
    }

    private static long selfCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
