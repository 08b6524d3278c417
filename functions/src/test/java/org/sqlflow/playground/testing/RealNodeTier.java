package org.sqlflow.playground.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class of the node tier: before anything else in the class runs (a Spring context included), the
 * class is skipped with the reason when no Ready node runs database pods, or failed under {@code CI=true}; see
 * {@link Tier#REAL_NODE}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("real-node")
@ExtendWith(TierCondition.class)
public @interface RealNodeTier {}
