package org.sqlflow.playground.testing;

import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.sqlflow.playground.local.CountingDispatcher;

/**
 * The mock API server with faults on demand: chosen requests fail with a 500, as an overloaded or crashing
 * API server would. Faults act on the server, so the code under test runs unchanged. It also counts writes.
 */
public class FaultInjectingDispatcher extends CountingDispatcher {

    private record Fault(String method, String pathPart, AtomicInteger remaining) {}

    private final List<Fault> faults = new CopyOnWriteArrayList<>();
    private final AtomicLong writes = new AtomicLong();
    private final java.util.Map<String, AtomicLong> writesByPath = new java.util.concurrent.ConcurrentHashMap<>();

    /** The next {@code times} requests with this method whose path contains {@code pathPart} fail. */
    public void fail(String method, String pathPart, int times) {
        faults.add(new Fault(method, pathPart, new AtomicInteger(times)));
    }

    public void clearFaults() {
        faults.clear();
    }

    /** POST, PUT, PATCH and DELETE requests answered so far. */
    public long writes() {
        return writes.get();
    }

    /** Writes to paths containing {@code pathPart}, e.g. "/configmaps". */
    public long writes(String pathPart) {
        return writesByPath.entrySet().stream()
                .filter(e -> e.getKey().contains(pathPart))
                .mapToLong(e -> e.getValue().get())
                .sum();
    }

    @Override
    public MockResponse dispatch(RecordedRequest request) {
        for (Fault f : faults) {
            if (f.method().equals(request.getMethod())
                    && request.getPath().contains(f.pathPart())
                    && f.remaining().getAndDecrement() > 0) {
                return new MockResponse()
                        .setResponseCode(500)
                        .setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                + "\"message\":\"injected fault\",\"code\":500}");
            }
        }
        switch (request.getMethod()) {
            case "POST", "PUT", "PATCH", "DELETE" -> {
                writes.incrementAndGet();
                String path = request.getPath();
                int q = path.indexOf('?');
                writesByPath
                        .computeIfAbsent(q < 0 ? path : path.substring(0, q), k -> new AtomicLong())
                        .incrementAndGet();
            }
            default -> {}
        }
        return super.dispatch(request);
    }
}
