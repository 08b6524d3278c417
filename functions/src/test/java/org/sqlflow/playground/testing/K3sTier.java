package org.sqlflow.playground.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class of the k3s tier: the class is skipped with the reason wherever k3s cannot start here (no
 * container engine, or an image that cannot be pulled), under CI too; see {@link Tier#K3S}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("k3s")
@ExtendWith(TierCondition.class)
public @interface K3sTier {}
