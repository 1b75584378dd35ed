/** The Cloud Connector has no route on the services port: its REST configuration API and console are on a port of their own (admin/). */
export {};
