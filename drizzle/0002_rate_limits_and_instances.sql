CREATE TABLE "hub_instances" (
	"id" text PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "rate_limit_per_second" integer;--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "rate_limit_burst" integer;