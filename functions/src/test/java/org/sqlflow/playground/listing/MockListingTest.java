package org.sqlflow.playground.listing;

/** The listing's scenarios on fabric8's mock API server (fast tier). */
class MockListingTest extends ListingScenarios {}
