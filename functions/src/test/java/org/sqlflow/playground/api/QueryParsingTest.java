package org.sqlflow.playground.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.sqlflow.playground.error.PlaygroundException;

/** The heartbeat query as the real client writes it: the id pasted unencoded after "user_id=". */
class QueryParsingTest {

    private static String code(String query) {
        try {
            ApiInput.userIdFromQuery(query);
            return "ok";
        } catch (PlaygroundException e) {
            return e.code();
        }
    }

    @Test
    void takesTheIdAsTheClientSendsIt() {
        assertThat(ApiInput.userIdFromQuery("user_id=alice")).isEqualTo("alice");
        assertThat(ApiInput.userIdFromQuery("user_id=a.b_c-d")).isEqualTo("a.b_c-d");
        assertThat(ApiInput.userIdFromQuery("x=1&user_id=alice")).isEqualTo("alice");
        assertThat(ApiInput.userIdFromQuery("user_id=%61lice")).isEqualTo("alice");
    }

    @Test
    void rejectsWhatIsNotExactlyOneValidId() {
        assertThat(code(null)).isEqualTo("missing_user_id");
        assertThat(code("")).isEqualTo("missing_user_id");
        assertThat(code("userid=alice")).isEqualTo("missing_user_id");
        assertThat(code("user_id=a&user_id=a")).isEqualTo("repeated_user_id");
        assertThat(code("user_id=%zz")).isEqualTo("invalid_query");
        assertThat(code("user_id=")).isEqualTo("invalid_user_id");
        assertThat(code("user_id=a+b")).isEqualTo("invalid_user_id");
        assertThatThrownBy(() -> ApiInput.userIdFromQuery("user_id=" + "x".repeat(64)))
                .isInstanceOfSatisfying(
                        PlaygroundException.class, e -> assertThat(e.status()).isEqualTo(400));
    }
}
