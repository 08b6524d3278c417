package org.sqlflow.playground.listing;

import org.sqlflow.playground.testing.RealApiTier;

/**
 * The listing's scenarios on a real API server (real-API tier), as the listing's own ServiceAccount: its Role in
 * knative/rbac.yaml is judged against what these use.
 */
@RealApiTier
class RealApiListingTest extends ListingScenarios {}
