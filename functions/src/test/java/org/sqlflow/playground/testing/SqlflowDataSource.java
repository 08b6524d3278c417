package org.sqlflow.playground.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** SQLFlow's own parser for a MySQL data source (everything after "mysql://"), to hold our answers to it. */
public record SqlflowDataSource(String user, String password, String host, int port, String database) {

    public static final Pattern SQLFLOW_MYSQL =
            Pattern.compile("^(\\w*):(\\w*)@tcp\\(([.a-zA-Z0-9\\-]*):([0-9]*)\\)/(\\w*)(\\?.*)?$");

    public static SqlflowDataSource parse(String dataSource) {
        if (!dataSource.startsWith("mysql://")) {
            throw new IllegalArgumentException("not a mysql data source");
        }
        Matcher m = SQLFLOW_MYSQL.matcher(dataSource.substring("mysql://".length()));
        if (!m.matches()) {
            throw new IllegalArgumentException("SQLFlow cannot parse this data source");
        }
        return new SqlflowDataSource(m.group(1), m.group(2), m.group(3), Integer.parseInt(m.group(4)), m.group(5));
    }
}
