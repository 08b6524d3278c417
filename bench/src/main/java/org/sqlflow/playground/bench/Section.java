package org.sqlflow.playground.bench;

/** One part of the benchmark ({@code --sections=}): it starts its own servers and puts its figures into the results. */
interface Section {

    void run(Run run) throws Exception;
}
