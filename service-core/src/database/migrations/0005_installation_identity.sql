CREATE TABLE "installation" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	CONSTRAINT "installation_one_row" CHECK ("installation"."singleton")
);
--> statement-breakpoint
-- Written once, here: every service reads the same identity from the database it shares.
INSERT INTO "installation" DEFAULT VALUES;
