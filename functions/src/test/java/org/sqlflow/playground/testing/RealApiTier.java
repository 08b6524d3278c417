package org.sqlflow.playground.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class of the real-API tier: before anything else in the class runs, the class is skipped with the
 * reason when no real API server answers, or failed under {@code CI=true} (see {@link Tier#REAL_API}); after it,
 * {@link LeastPrivilegeAudit} judges the requests its functions' ServiceAccounts made.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("real-api")
@ExtendWith({TierCondition.class, LeastPrivilegeAudit.class})
public @interface RealApiTier {}
