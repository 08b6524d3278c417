package org.sqlflow.playground.bench;

import tools.jackson.core.JsonGenerator;
import tools.jackson.core.util.DefaultIndenter;
import tools.jackson.core.util.DefaultPrettyPrinter;
import tools.jackson.core.util.Separators;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.ValueSerializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;

/**
 * Jackson 3 as the results files are written: two-space indentation, one array element per line, {@code "a": 1},
 * a whole number as an integer ({@code 8866}, not {@code 8866.0}) and a number that is not one (NaN) as null.
 */
final class Json {

    static final JsonMapper MAPPER = JsonMapper.builder()
            .addModule(new SimpleModule("bench-numbers").addSerializer(Double.class, new Numbers()))
            .enable(SerializationFeature.INDENT_OUTPUT)
            .defaultPrettyPrinter(printer())
            .build();

    private Json() {}

    static String pretty(Object tree) {
        return MAPPER.writeValueAsString(tree);
    }

    /** On one line, as a request body. */
    static String compact(Object tree) {
        return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(tree);
    }

    static JsonNode read(String text) {
        return MAPPER.readTree(text);
    }

    private static DefaultPrettyPrinter printer() {
        DefaultIndenter lines = new DefaultIndenter("  ", "\n");
        Separators separators = Separators.createDefaultInstance()
                .withObjectNameValueSpacing(Separators.Spacing.AFTER)
                .withObjectEmptySeparator("")
                .withArrayEmptySeparator("");
        return new DefaultPrettyPrinter(separators).withObjectIndenter(lines).withArrayIndenter(lines);
    }

    private static final class Numbers extends ValueSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator gen, SerializationContext context) {
            double d = value;
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                gen.writeNull();
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                gen.writeNumber((long) d);
            } else {
                gen.writeNumber(d);
            }
        }
    }
}
