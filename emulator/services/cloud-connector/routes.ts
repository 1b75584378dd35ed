/** The Cloud Connector has no route on the services port yet (its REST configuration API is issue #18). */
export {};
