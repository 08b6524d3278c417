package org.sqlflow.playground.bench;

/** A server process whose CPU time goes into the figures of the load run against it. */
interface MeasuredProcess {

    /** utime + stime of the process so far. */
    long cpuNanos();
}
